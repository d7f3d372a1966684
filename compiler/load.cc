#include "compiler/load.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "compiler/parse.h"
#include "compiler/stdlib.h"

namespace ferry {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kStdPrefix = "std/";
constexpr size_t kMaxImportDepth = 32;
constexpr uintmax_t kMaxFileBytes = 16 << 20;  // plans are kilobytes; refuse what cannot be one

bool ReadFile(const std::string& path, std::string& out, std::string& error) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    error = "it is a directory";
    return false;
  }
  if (fs::file_size(path, ec) > kMaxFileBytes && !ec) {
    error = fmt::format("it is larger than {} MiB, which no plan is", kMaxFileBytes >> 20);
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::strerror(errno);
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

std::string Display(const fs::path& p) {
  std::error_code ec;
  const fs::path rel = fs::relative(p, fs::current_path(ec), ec);
  if (!ec && !rel.empty() && rel.native().rfind("..", 0) != 0) return rel.generic_string();
  return p.generic_string();
}

class Loader {
 public:
  Loader(Program& program, Diagnostics& diags) : program_(program), diags_(diags) {}

  FileId AddAndParse(std::string key, std::string display, std::string text, bool is_stdlib) {
    const FileId id = program_.sources.Add(key, std::move(display), std::move(text), is_stdlib);
    by_key_[key] = id;
    program_.files.push_back(LoadedFile{Parse(program_.sources, id, diags_), false});
    imports_.emplace_back();
    return id;
  }

  // Loads the imports of `id`, depth first, with `stack` holding the files being loaded.
  void LoadImports(FileId id) {
    if (stack_.size() >= kMaxImportDepth) {
      for (const auto& item : program_.files[id].ast.items) {
        if (const auto* imp = std::get_if<ast::Import>(&item)) {
          diags_.Emit(DiagKind::kImportNotFound, imp->span,
                      fmt::format("imports nested deeper than {} files", kMaxImportDepth),
                      "import shared files from the plan directly instead of through a chain");
          break;
        }
      }
      return;
    }
    stack_.push_back(id);
    // Copy: loading may grow program_.files.
    std::vector<ast::Import> imports;
    for (const auto& item : program_.files[id].ast.items) {
      if (const auto* imp = std::get_if<ast::Import>(&item)) imports.push_back(*imp);
    }
    for (const ast::Import& imp : imports) {
      const FileId target = Resolve(id, imp);
      if (target != kNoFile) imports_[id].push_back(target);
    }
    stack_.pop_back();
  }

  // Runs once loading is done: a file is visible when reachable from the root.
  void MarkVisible(FileId root) {
    std::vector<FileId> todo = {root};
    while (!todo.empty()) {
      const FileId f = todo.back();
      todo.pop_back();
      if (program_.files[f].visible) continue;
      program_.files[f].visible = true;
      for (FileId g : imports_[f]) todo.push_back(g);
    }
  }

  FileId LoadStd(const std::string& rel) {
    const std::string key = std::string(kStdPrefix) + rel;
    if (auto it = by_key_.find(key); it != by_key_.end()) return it->second;
    for (const stdlib::EmbeddedFile& f : stdlib::Files()) {
      if (f.path == rel) return AddAndParse(key, key, std::string(f.text), true);
    }
    return kNoFile;
  }

 private:

  FileId Resolve(FileId from, const ast::Import& imp) {
    const SourceFile& importer = program_.sources.file(from);
    const std::string& spec = imp.path.text;
    std::string key, display, text;
    bool is_std = false;
    if (spec.rfind(kStdPrefix, 0) == 0) {
      is_std = true;
      key = spec + (spec.size() > 6 && spec.ends_with(".ferry") ? "" : ".ferry");
    } else if (importer.is_stdlib) {
      // Relative imports inside the stdlib stay inside it.
      const fs::path base = fs::path(importer.path).parent_path();
      key = (base / spec).lexically_normal().generic_string();
      is_std = true;
    } else {
      const fs::path base = fs::path(importer.path).parent_path();
      std::error_code ec;
      // Canonical (symlinks resolved) so one file reached two ways is one file, and a
      // symlinked directory cannot hide a cycle.
      fs::path p = fs::weakly_canonical(base / spec, ec);
      if (ec) p = fs::absolute(base / spec).lexically_normal();
      key = p.generic_string();
      display = Display(p);
    }

    if (auto it = by_key_.find(key); it != by_key_.end()) {
      const FileId target = it->second;
      for (size_t i = 0; i < stack_.size(); ++i) {
        if (stack_[i] != target) continue;
        std::string chain;
        for (size_t j = i; j < stack_.size(); ++j) {
          chain += program_.sources.file(stack_[j]).display + " → ";
        }
        chain += program_.sources.file(target).display;
        diags_.Emit(DiagKind::kImportCycle, imp.span, fmt::format("import cycle: {}", chain),
                    "move the shared declarations into a file that both import");
        return kNoFile;
      }
      return target;
    }

    FileId id = kNoFile;
    if (is_std) {
      id = LoadStd(key.substr(kStdPrefix.size()));
      if (id == kNoFile) {
        std::vector<std::string> names;
        for (const stdlib::EmbeddedFile& f : stdlib::Files()) {
          std::string n = "std/" + std::string(f.path);
          names.push_back(n.substr(0, n.size() - 6));
        }
        std::string hint = DidYouMean(spec, names);
        if (hint.empty()) hint = "the standard library has `std/typemaps`";
        diags_.Emit(DiagKind::kUnknownStdModule, imp.path.span,
                    fmt::format("the standard library has no module `{}`", spec), hint);
        return kNoFile;
      }
    } else {
      std::string error;
      if (!ReadFile(key, text, error)) {
        diags_.Emit(DiagKind::kImportNotFound, imp.path.span,
                    fmt::format("cannot read `{}`: {}", display, error),
                    "imports are relative to the importing file");
        return kNoFile;
      }
      id = AddAndParse(key, display, std::move(text), false);
    }
    LoadImports(id);
    return id;
  }

  Program& program_;
  Diagnostics& diags_;
  std::map<std::string, FileId> by_key_;
  std::vector<std::vector<FileId>> imports_;
  std::vector<FileId> stack_;
};

}  // namespace

FileId LoadHiddenStdlib(Program& program, const std::string& rel, Diagnostics& diags) {
  const std::string key = std::string(kStdPrefix) + rel;
  for (FileId id = 0; id < program.sources.size(); ++id) {
    if (program.sources.file(id).path == key) return id;
  }
  Loader loader(program, diags);
  return loader.LoadStd(rel);
}

LoadStatus LoadText(const std::string& display, std::string text, Program& program,
                    Diagnostics& diags) {
  Loader loader(program, diags);
  std::error_code ec;
  const fs::path p = fs::absolute(display, ec).lexically_normal();
  program.root = loader.AddAndParse(p.generic_string(), display, std::move(text), false);
  loader.LoadImports(program.root);
  loader.MarkVisible(program.root);
  return LoadStatus::kOk;
}

LoadStatus Load(const std::string& path, Program& program, Diagnostics& diags, std::string* error) {
  std::string text, why;
  if (!ReadFile(path, text, why)) {
    if (error != nullptr) *error = fmt::format("cannot read `{}`: {}", path, why);
    return LoadStatus::kRootUnreadable;
  }
  return LoadText(path, std::move(text), program, diags);
}

}  // namespace ferry
