// MySQL/MariaDB error numbers → runtime codes. Server errors are documented in
// https://mariadb.com/kb/en/mariadb-error-codes/ ; client errors (2xxx) in errmsg.h.
#include <string>

#include "runtime/connectors/mysql/mysql_connection.h"

namespace ferry::runtime {

Code MysqlCode(unsigned err) {
  switch (err) {
    case 1045:  // ER_ACCESS_DENIED_ERROR (wrong user or password)
    case 1698:  // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
    case 1862:  // ER_MUST_CHANGE_PASSWORD_LOGIN
      return Code::kUnauthenticated;
    case 1044:  // ER_DBACCESS_DENIED_ERROR
    case 1142:  // ER_TABLEACCESS_DENIED_ERROR
    case 1143:  // ER_COLUMNACCESS_DENIED_ERROR
    case 1227:  // ER_SPECIFIC_ACCESS_DENIED_ERROR
    case 1370:  // ER_PROCACCESS_DENIED_ERROR
    case 1410:  // ER_CANT_CREATE_USER_WITH_GRANT
    case 1419:  // ER_BINLOG_CREATE_ROUTINE_NEED_SUPER
    case 1449:  // ER_NO_SUCH_USER (a DEFINER that does not exist)
      return Code::kPermissionDenied;
    case 1040:  // ER_CON_COUNT_ERROR
    case 1203:  // ER_TOO_MANY_USER_CONNECTIONS
    case 1021:  // ER_DISK_FULL
    case 1114:  // ER_RECORD_FILE_FULL
    case 1041:  // ER_OUT_OF_RESOURCES
      return Code::kResourceExhausted;
    case 1053:  // ER_SERVER_SHUTDOWN
    case 1927:  // ER_CONNECTION_KILLED
    case 1152:  // ER_ABORTING_CONNECTION
    case 1129:  // ER_HOST_IS_BLOCKED
    case 2002:  // CR_CONNECTION_ERROR (socket)
    case 2003:  // CR_CONN_HOST_ERROR
    case 2005:  // CR_UNKNOWN_HOST
    case 2006:  // CR_SERVER_GONE_ERROR
    case 2013:  // CR_SERVER_LOST
    case 2055:  // CR_SERVER_LOST_EXTENDED
      return Code::kUnavailable;
    case 2026:  // CR_SSL_CONNECTION_ERROR
      return Code::kTlsFailure;
    case 1049:  // ER_BAD_DB_ERROR
    case 1146:  // ER_NO_SUCH_TABLE
    case 1305:  // ER_SP_DOES_NOT_EXIST
    case 1141:  // ER_NONEXISTING_GRANT
      return Code::kNotFound;
    case 1007:  // ER_DB_CREATE_EXISTS
    case 1050:  // ER_TABLE_EXISTS_ERROR
    case 1061:  // ER_DUP_KEYNAME
    case 1304:  // ER_SP_ALREADY_EXISTS
    case 1359:  // ER_TRG_ALREADY_EXISTS
    case 1396:  // ER_CANNOT_USER (CREATE USER of an existing user)
    case 1537:  // ER_EVENT_ALREADY_EXISTS
    case 1826:  // ER_FK_DUP_NAME
      return Code::kAlreadyExists;
    case 1317:  // ER_QUERY_INTERRUPTED (KILL QUERY: Connection::Cancel)
      return Code::kCancelled;
    case 1205:  // ER_LOCK_WAIT_TIMEOUT
    case 1213:  // ER_LOCK_DEADLOCK
      return Code::kAborted;
    case 1236:  // ER_MASTER_FATAL_ERROR_READING_BINLOG
    case 1792:  // ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
      return Code::kFailedPrecondition;
    default:
      break;
  }
  if (err >= 2000 && err < 3000) return Code::kUnavailable;  // other client-side failures
  return Code::kInvalidArgument;  // syntax, data and constraint errors: the SQL or data is wrong
}

Status MysqlStatus(unsigned err, const char* sqlstate, const char* message, bool mariadb) {
  std::string native = std::string(mariadb ? "MariaDB" : "MySQL") + " " + std::to_string(err);
  if (sqlstate != nullptr && *sqlstate != '\0' && std::string(sqlstate) != "HY000") {
    native += " (" + std::string(sqlstate) + ")";
  }
  return Status(MysqlCode(err), message != nullptr ? message : "unknown error", native);
}

}  // namespace ferry::runtime
