#include "compiler/lower.h"

#include <fmt/format.h>

namespace ferry {
namespace {

std::string Quoted(const std::string& name) {
  // Names that are not plain identifiers are shown as the plan writes them: in quotes.
  bool plain = !name.empty();
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '*' || c == '?')) plain = false;
  }
  if (plain) return name;
  std::string out = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string DescribeObject(const ir::SchemaRule& s, const ir::TableRule* t) {
  const std::string table_src = t != nullptr ? t->source : "*";
  std::string out = Quoted(s.source) + "." + Quoted(table_src);
  const bool renamed = !s.target.empty() || (t != nullptr && !t->target.empty());
  if (renamed) {
    const std::string schema_dst = s.target.empty() ? s.source : s.target;
    const std::string table_dst = t != nullptr && !t->target.empty() ? t->target : table_src;
    out += " -> " + Quoted(schema_dst) + "." + Quoted(table_dst);
  }
  return out;
}

void Lower(ir::Plan& plan) {
  for (ir::Migration& m : plan.migrations) {
    m.stages.clear();
    auto add = [&](ir::StageKind kind, std::string object, std::vector<int> after, const ir::Origin& origin) {
      ir::Stage s;
      s.id = static_cast<int>(m.stages.size()) + 1;
      s.kind = kind;
      s.object = std::move(object);
      s.after = std::move(after);
      s.origin = origin;
      m.stages.push_back(std::move(s));
      return m.stages.back().id;
    };
    const bool schema = m.Has(ir::MigrationType::kSchema);
    const bool full = m.Has(ir::MigrationType::kFull);
    const bool incremental = m.Has(ir::MigrationType::kIncremental);

    int root = add(ir::StageKind::kPrecheck, "", {}, m.origin);
    if (incremental) root = add(ir::StageKind::kCapture, "", {root}, m.origin);

    std::vector<int> ends;   // the last stage of each object's chain
    for (const ir::SchemaRule& s : m.objects) {
      if (s.exclude) continue;
      std::vector<std::pair<const ir::TableRule*, const ir::Origin*>> objects;
      if (s.whole) {
        objects.emplace_back(nullptr, &s.origin);
      } else {
        for (const ir::TableRule& t : s.tables) {
          if (!t.exclude) objects.emplace_back(&t, &t.origin);
        }
      }
      for (const auto& [t, origin] : objects) {
        const std::string object = DescribeObject(s, t);
        int last = root;
        if (schema) last = add(ir::StageKind::kSchemaPre, object, {last}, *origin);
        if (full) last = add(ir::StageKind::kLoad, object, {last}, *origin);
        if (schema) last = add(ir::StageKind::kSchemaPost, object, {last}, *origin);
        if (last != root) ends.push_back(last);
      }
    }
    if (ends.empty()) ends.push_back(root);

    // Triggers created after the full load (DESIGN.md): one stage waiting for every chain.
    if (schema && incremental && full && m.triggers == ir::Triggers::kAfterFull) {
      ends = {add(ir::StageKind::kSchemaPost, "triggers (after full load)", ends, m.origin)};
    }
    const std::vector<int> full_done = ends;
    int incr = 0;
    if (incremental) incr = add(ir::StageKind::kIncremental, "", ends, m.origin);
    if (m.verify) {
      const ir::Origin& vo = m.verify->origin;
      if (m.verify->after != ir::VerifyAfter::kIncremental && full) {
        add(ir::StageKind::kVerify, incremental ? "after full load" : "", full_done, vo);
      }
      if (m.verify->after != ir::VerifyAfter::kFull && incremental) {
        add(ir::StageKind::kVerify, "after incremental catch-up", {incr}, vo);
      }
    }
  }
}

}  // namespace ferry
