// PostgreSQL connections through libpq.
#pragma once

#include <memory>
#include <string_view>

#include "runtime/connection.h"

namespace ferry::runtime {

StatusOr<std::unique_ptr<Connection>> ConnectPostgres(const ConnectOptions& options);

// The one place SQLSTATEs and libpq's connection messages become runtime codes (errors.cc).
Code PostgresCode(std::string_view sqlstate);
Code PostgresConnectCode(std::string_view libpq_message);

}  // namespace ferry::runtime
