// Reads the secrets a plan references (`secret("env:VAR")`, `secret("file:PATH")`).
//
// Called only when a connection is about to be made, never by the compiler. The value goes
// straight to the client library; errors name the reference, never the value.
#pragma once

#include <string>

#include "compiler/ir.h"
#include "runtime/status.h"

namespace ferry::runtime {

// The secret's value. A file's single trailing newline is dropped (as `echo pw > file` adds
// one); an empty value is an error, since no real account has an empty password by accident.
StatusOr<std::string> ResolveSecret(const ir::Secret& secret);

}  // namespace ferry::runtime
