#include "tests/test_util.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace ferry::testing {

std::filesystem::path SourceDir() { return FERRY_SOURCE_DIR; }

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

std::vector<std::filesystem::path> FilesIn(const std::filesystem::path& dir, const std::string& ext) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ext) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> ExamplePlans() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(SourceDir() / "examples")) {
    if (e.is_regular_file() && e.path().extension() == ".ferry") {
      out.push_back(std::filesystem::relative(e.path(), SourceDir()).generic_string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string RenderAll(const Compilation& c) {
  std::string out;
  for (const Diagnostic& d : c.diags.Sorted()) out += RenderText(c.program.sources, d, RenderOptions{false});
  return out;
}

std::vector<std::string> Codes(const Compilation& c) {
  std::vector<std::string> out;
  for (const Diagnostic& d : c.diags.Sorted()) out.emplace_back(Info(d.kind).code);
  return out;
}

bool UpdateGolden() {
  const char* v = std::getenv("FERRY_UPDATE_GOLDEN");
  return v != nullptr && std::string(v) == "1";
}

}  // namespace ferry::testing
