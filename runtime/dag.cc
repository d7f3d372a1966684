#include "runtime/dag.h"

namespace ferry::runtime {

std::vector<Node> ExpandDag(const ir::Migration& m, const Selection& sel) {
  using K = ir::StageKind;
  std::vector<Node> nodes;
  auto add = [&](K kind, std::string object, std::vector<int> after, std::string loc) {
    nodes.push_back({static_cast<int>(nodes.size()) + 1, kind, std::move(object), std::move(after), std::move(loc)});
    return nodes.back().id;
  };
  const bool schema = m.Has(ir::MigrationType::kSchema), full = m.Has(ir::MigrationType::kFull),
             incremental = m.Has(ir::MigrationType::kIncremental);
  int root = add(K::kPrecheck, "", {}, m.origin.loc);
  if (incremental) root = add(K::kCapture, "", {root}, m.origin.loc);
  std::vector<int> ends, load_ends;
  for (const auto& t : sel.tables) {
    std::string object = t.source->schema + "." + t.source->name;
    if (t.dst_schema != t.source->schema || t.dst_table != t.source->name) {
      object += " -> " + t.dst_schema + "." + t.dst_table;
    }
    int last = root;
    if (schema) last = add(K::kSchemaPre, object, {last}, t.loc);
    if (full) load_ends.push_back(last = add(K::kLoad, object, {last}, t.loc));
    if (schema) last = add(K::kSchemaPost, object, {last}, t.loc);
    ends.push_back(last);
  }
  if (ends.empty()) ends.push_back(root);
  int inc = 0;
  if (incremental) inc = add(K::kIncremental, "", ends, m.origin.loc);
  if (m.verify) {
    std::vector<int> after;
    bool after_full = m.verify->after != ir::VerifyAfter::kIncremental;
    if (after_full || !incremental) after = ends;
    if (incremental && m.verify->after != ir::VerifyAfter::kFull) after.push_back(inc);
    add(K::kVerify, "", after, m.verify->origin.loc);
  }
  (void)load_ends;
  return nodes;
}

}  // namespace ferry::runtime
