// The standard library's .ferry files, compiled into the binary (stdlib/embed.cmake).
#pragma once

#include <string_view>
#include <vector>

namespace ferry::stdlib {

struct EmbeddedFile {
  std::string_view path;  // relative to stdlib/, e.g. "typemaps.ferry"
  std::string_view text;
};

const std::vector<EmbeddedFile>& Files();

}  // namespace ferry::stdlib
