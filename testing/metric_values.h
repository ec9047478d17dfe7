// Reading metric values back from a prometheus::Registry, exactly as a scrape
// would see them. For tests; not thread-safe with respect to the writer.
#ifndef PSE_TESTING_METRIC_VALUES_H_
#define PSE_TESTING_METRIC_VALUES_H_

#include <map>
#include <string>

#include "prometheus/registry.h"

namespace pse {
namespace test {

// Value of the sample of `name` with exactly these labels; -1 if there is none.
inline double MetricValue(const prometheus::Registry& registry, const std::string& name,
                          const std::map<std::string, std::string>& labels = {}) {
  for (const auto& fam : registry.Collect()) {
    if (fam.name != name) continue;
    for (const auto& m : fam.metric) {
      std::map<std::string, std::string> got;
      for (const auto& l : m.label) got[l.name] = l.value;
      if (got != labels) continue;
      return fam.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
    }
  }
  return -1;
}

// The series of a family with one label, as label value -> sample value
// (counter or gauge); empty when the family has no series.
inline std::map<std::string, double> SeriesByLabel(const prometheus::Registry& registry,
                                                   const std::string& name) {
  std::map<std::string, double> out;
  for (const auto& fam : registry.Collect()) {
    if (fam.name != name) continue;
    for (const auto& m : fam.metric) {
      out[m.label.at(0).value] =
          fam.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
    }
  }
  return out;
}

// The sum of SeriesByLabel's values.
inline double SumOf(const std::map<std::string, double>& series) {
  double sum = 0;
  for (const auto& [label, value] : series) sum += value;
  return sum;
}

}  // namespace test
}  // namespace pse

#endif  // PSE_TESTING_METRIC_VALUES_H_
