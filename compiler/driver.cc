#include "compiler/driver.h"

#include "compiler/analyze.h"
#include "compiler/lower.h"

namespace ferry {
namespace {

void Finish(Compilation& c) {
  c.plan = Analyze(c.program, c.diags);
  if (!c.diags.has_errors()) Lower(c.plan);
}

}  // namespace

std::unique_ptr<Compilation> Compile(const std::string& path) {
  auto c = std::make_unique<Compilation>();
  if (Load(path, c->program, c->diags, &c->root_error) == LoadStatus::kRootUnreadable) {
    c->root_unreadable = true;
    return c;
  }
  Finish(*c);
  return c;
}

std::unique_ptr<Compilation> CompileText(const std::string& display, std::string text) {
  auto c = std::make_unique<Compilation>();
  LoadText(display, std::move(text), c->program, c->diags);
  Finish(*c);
  return c;
}

}  // namespace ferry
