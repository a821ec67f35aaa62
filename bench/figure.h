// One benchmark figure as the JSON line bench/summarize.py reads:
// {"name", "value", "unit", "shapes", "check"}.
#ifndef METARM_BENCH_FIGURE_H_
#define METARM_BENCH_FIGURE_H_

#include <iostream>
#include <string>

#include "nlohmann/json.hpp"

namespace metarm {

inline void PrintFigure(const std::string& name, double value,
                        const std::string& unit, const nlohmann::json& shapes,
                        const std::string& check) {
  std::cout << nlohmann::json{{"name", name},
                              {"value", value},
                              {"unit", unit},
                              {"shapes", shapes},
                              {"check", check}}
                   .dump()
            << std::endl;
}

}  // namespace metarm

#endif  // METARM_BENCH_FIGURE_H_
