// Helpers shared by the compiler tests.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "compiler/driver.h"

namespace ferry::testing {

std::filesystem::path SourceDir();
std::string ReadFile(const std::filesystem::path& p);
void WriteFile(const std::filesystem::path& p, const std::string& text);

// Every file with `ext` directly in `dir`, sorted.
std::vector<std::filesystem::path> FilesIn(const std::filesystem::path& dir, const std::string& ext);

// The plan files under examples/ (recursively), sorted, relative to the source dir.
std::vector<std::string> ExamplePlans();

// Diagnostics as `ferry check` prints them, without colour.
std::string RenderAll(const Compilation& c);

// The codes of a compilation's diagnostics, in order.
std::vector<std::string> Codes(const Compilation& c);

// Runs `fn` with the working directory set to `dir`, restoring it afterwards.
template <typename Fn>
auto InDir(const std::filesystem::path& dir, Fn fn) {
  struct Restore {
    std::filesystem::path old = std::filesystem::current_path();
    ~Restore() { std::filesystem::current_path(old); }
  } restore;
  std::filesystem::current_path(dir);
  return fn();
}

bool UpdateGolden();

}  // namespace ferry::testing
