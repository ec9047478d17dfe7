// WaitOrFail: calls Source::Wait() with a bound instead of "forever", for
// tests that expect Wait() to return because something happened (data,
// rotation, hang-up, budget left over). If Wait() instead runs out the
// bound, the test fails with a message saying so, long before the ctest
// timeout would kill the whole test binary.
//
// The bound is real time and far above what noticing a change takes (a few
// milliseconds); it only turns a hang into a readable failure, it does not
// measure anything.
#ifndef PSE_TESTING_SOURCE_WAIT_H_
#define PSE_TESTING_SOURCE_WAIT_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "exporter/source.h"
#include "gtest/gtest.h"

namespace pse {
namespace test {

inline constexpr absl::Duration kWaitBound = absl::Seconds(20);

// Use as ASSERT_TRUE(WaitOrFail(source)) or EXPECT_TRUE(...).
inline ::testing::AssertionResult WaitOrFail(Source* source, absl::Duration bound = kWaitBound) {
  const absl::Time start = absl::Now();
  source->Wait(bound);
  if (absl::Now() - start >= bound) {
    return ::testing::AssertionFailure()
           << "Wait() did not return within " << absl::FormatDuration(bound) << " on "
           << source->Describe() << ": the source did not notice the change the test made";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace test
}  // namespace pse

#endif  // PSE_TESTING_SOURCE_WAIT_H_
