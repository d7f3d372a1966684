// How a failed connection is explained, the same way for every engine.
#pragma once

#include "runtime/connection.h"

namespace ferry::runtime {

// "cannot connect to endpoint src (mariadb at 10.0.0.5:3306 as ferry): <why>. <what to do>"
// The password is never part of it.
Status ConnectError(const ConnectOptions& options, Status cause);

}  // namespace ferry::runtime
