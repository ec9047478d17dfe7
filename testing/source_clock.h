// FakeClock: a clock for the sources' `clock` option that moves only when a
// test calls Advance(), so rotate_wait and retry intervals are tested without
// sleeping and without timing assumptions.
//
// AsFunction() captures `this`: the FakeClock must outlive every source it
// was given to. Not thread-safe (sources are driven from the test thread).
#ifndef PSE_TESTING_SOURCE_CLOCK_H_
#define PSE_TESTING_SOURCE_CLOCK_H_

#include <functional>

#include "absl/time/time.h"

namespace pse {
namespace test {

class FakeClock {
 public:
  // An arbitrary fixed start, far from the real time, so that code that
  // mixes the fake clock with absl::Now() shows up in tests.
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1000000000)) : now_(start) {}

  absl::Time Now() const { return now_; }
  void Advance(absl::Duration d) { now_ += d; }
  std::function<absl::Time()> AsFunction() {
    return [this] { return now_; };
  }

 private:
  absl::Time now_;
};

}  // namespace test
}  // namespace pse

#endif  // PSE_TESTING_SOURCE_CLOCK_H_
