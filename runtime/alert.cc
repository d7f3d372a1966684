#include "runtime/alert.h"

#include "runtime/http.h"

#include <nlohmann/json.hpp>

namespace ferry::runtime {

Status SendFailureAlert(const ir::Migration& m, const FailureReport& r) {
  if (!m.alert || !m.alert->on_failure || m.alert->webhook.empty()) return Status::Ok();
  nlohmann::json body = {{"event", "migration_failed"}, {"plan", r.plan},   {"migration", m.name},
                         {"stage", r.stage},            {"error", r.error}, {"tag", m.tag}};
  if (!r.table.empty()) body["table"] = r.table;
  std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto sent = HttpPost(m.alert->webhook, "application/json", text, 10, "the alert webhook (" + m.alert->origin.loc + ")");
  if (!sent.ok()) return sent.status();
  if (sent->status >= 400) {
    return Status(Code::kUnavailable, "the alert webhook (" + m.alert->origin.loc + ") did not take the message: HTTP " +
                                          std::to_string(sent->status));
  }
  return Status::Ok();
}

}  // namespace ferry::runtime
