#include "runtime/alert.h"

#include <curl/curl.h>

#include <nlohmann/json.hpp>

namespace ferry::runtime {

Status SendFailureAlert(const ir::Migration& m, const FailureReport& r) {
  if (!m.alert || !m.alert->on_failure || m.alert->webhook.empty()) return Status::Ok();
  nlohmann::json body = {{"event", "migration_failed"}, {"plan", r.plan},   {"migration", m.name},
                         {"stage", r.stage},            {"error", r.error}, {"tag", m.tag}};
  if (!r.table.empty()) body["table"] = r.table;
  std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Status(Code::kResourceExhausted, "cannot start an HTTP client for the alert");
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, m.alert->webhook.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, text.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(text.size()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    return Status(Code::kUnavailable, std::string("the alert webhook (") + m.alert->origin.loc +
                                          ") did not take the message: " + curl_easy_strerror(rc));
  }
  return Status::Ok();
}

}  // namespace ferry::runtime
