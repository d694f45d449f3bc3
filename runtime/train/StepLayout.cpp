//===- runtime/train/StepLayout.cpp ---------------------------------------===//
#include "runtime/train/StepLayout.h"

#include <fmt/format.h>

#include <map>

namespace weft::train {

Expected<StepLayout> stepLayoutFromNames(const std::vector<std::string> &args,
                                         const std::vector<std::string> &results) {
  constexpr std::string_view kNew = ".new";
  std::map<std::string, size_t, std::less<>> argIndex, newIndex;
  for (size_t a = 0; a < args.size(); ++a)
    argIndex.emplace(args[a], a);
  for (size_t r = 1; r < results.size(); ++r) {
    const std::string &n = results[r];
    if (n.size() <= kNew.size() || n.compare(n.size() - kNew.size(), kNew.size(), kNew) != 0)
      continue;
    std::string carried = n.substr(0, n.size() - kNew.size());
    if (!argIndex.contains(carried))
      return err(fmt::format("result {} is named '{}', but the step takes no argument '{}'", r, n,
                             carried));
    newIndex.emplace(std::move(carried), r);
  }
  if (newIndex.empty())
    return err("this function is not a training step: no result is named <argument>.new (build "
               "one with the optimize-step pass)");

  StepLayout l;
  l.numArgs = args.size();
  l.lossResult = 0;
  // State is named <param>.<slot>; a carried name is a parameter unless a shorter carried name
  // followed by '.' begins it.
  auto isStateOf = [&](const std::string &name) {
    for (size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1))
      if (newIndex.contains(std::string_view(name).substr(0, dot)))
        return true;
    return false;
  };
  // <param>.grad_absmax: finite exactly when the parameter's gradient is.
  constexpr std::string_view kGrad = ".grad_absmax";
  std::map<std::string, size_t, std::less<>> gradIndex;
  for (size_t r = 1; r < results.size(); ++r) {
    const std::string &n = results[r];
    if (n.size() <= kGrad.size() || n.compare(n.size() - kGrad.size(), kGrad.size(), kGrad) != 0)
      continue;
    std::string param = n.substr(0, n.size() - kGrad.size());
    if (!newIndex.contains(param))
      return err(fmt::format("result {} is named '{}', but the step carries no parameter '{}'", r,
                             n, param));
    gradIndex.emplace(std::move(param), r);
  }
  for (size_t a = 0; a < args.size(); ++a) {
    const std::string &name = args[a];
    if (auto it = newIndex.find(name); it != newIndex.end()) {
      auto grad = gradIndex.find(name);
      Carried c{name, a, it->second,
                grad == gradIndex.end() ? std::nullopt : std::optional<size_t>(grad->second)};
      (isStateOf(name) ? l.state : l.params).push_back(std::move(c));
    } else if (name == "step") {
      l.stepArg = a;
    } else {
      l.batch.push_back(Fed{name, a});
    }
  }
  return l;
}

} // namespace weft::train
