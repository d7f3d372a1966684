// `alert { on_failure = true  webhook = "https://…" }`: when a run fails, a JSON message
// (plan, migration, stage, the table when there is one, the error, the tag) is POSTed to the
// webhook. The error texts Ferry builds never hold a secret; neither does the message.
#pragma once

#include <string>

#include "compiler/ir.h"
#include "runtime/status.h"

namespace ferry::runtime {

struct FailureReport {
  std::string plan;
  std::string stage;
  std::string table;  // the source table, when the failure concerns one
  std::string error;
};

// Posts the report when the migration's alert asks for it. Errors say why (a webhook that does
// not answer within 10 s is an error); the caller reports them but keeps the run's own exit code.
Status SendFailureAlert(const ir::Migration& migration, const FailureReport& report);

}  // namespace ferry::runtime
