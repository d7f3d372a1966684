#include "runtime/secrets.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ferry::runtime {

StatusOr<std::string> ResolveSecret(const ir::Secret& secret) {
  std::string value;
  if (secret.scheme == "env") {
    const char* v = std::getenv(secret.ref.c_str());
    if (v == nullptr) {
      return Status(Code::kNotFound, "secret \"env:" + secret.ref + "\": the environment variable " +
                                         secret.ref + " is not set; export it before running ferry");
    }
    value = v;
  } else if (secret.scheme == "file") {
    std::ifstream in(secret.ref, std::ios::binary);
    if (!in) {
      return Status(Code::kNotFound, "secret \"file:" + secret.ref + "\": cannot read the file (" +
                                         std::strerror(errno) + ")");
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    value = buf.str();
    if (!value.empty() && value.back() == '\n') value.pop_back();
    if (!value.empty() && value.back() == '\r') value.pop_back();
  } else {
    return Status(Code::kInvalidArgument, "secret \"" + secret.ToString() +
                                              "\": unknown scheme; use env:VAR or file:PATH");
  }
  if (value.empty()) {
    return Status(Code::kInvalidArgument, "secret \"" + secret.ToString() + "\" is empty");
  }
  return value;
}

}  // namespace ferry::runtime
