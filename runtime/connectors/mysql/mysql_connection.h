// MariaDB/MySQL connections through MariaDB Connector/C.
#pragma once

#include <memory>

#include "runtime/connection.h"

namespace ferry::runtime {

StatusOr<std::unique_ptr<Connection>> ConnectMysql(const ConnectOptions& options);

// The one place MySQL/MariaDB error numbers become runtime codes (errors.cc).
Code MysqlCode(unsigned err);
Status MysqlStatus(unsigned err, const char* sqlstate, const char* message, bool mariadb);

}  // namespace ferry::runtime
