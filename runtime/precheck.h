// The precheck stage: what DTS checks before a migration may start, as items with stable
// codes (docs/precheck.md lists them), each a pass, a warning or a failure with a hint
// that says how to fix it, and a success rate at the end. Read-only on both sides: a
// failed precheck has written nothing anywhere.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/context.h"

namespace ferry::runtime {

struct CheckItem {
  enum class Result { kPass, kWarning, kFailure, kInfo };
  std::string code;      // "P101"
  std::string title;     // "source: connection and authentication"
  Result result = Result::kPass;
  std::string detail;    // what was found
  std::string hint;      // how to fix it (failures and warnings)
  std::string loc;       // the plan line it concerns
};

struct PrecheckReport {
  std::string migration;
  std::vector<CheckItem> items;

  bool passed() const;          // no failure
  int Count(CheckItem::Result r) const;
  int SuccessRate() const;      // percent of pass among pass + warning + failure, as DTS shows
};

PrecheckReport RunPrecheck(MigrationContext& ctx);

std::string RenderText(const PrecheckReport& report, bool color);
nlohmann::json ToJson(const PrecheckReport& report);

}  // namespace ferry::runtime
