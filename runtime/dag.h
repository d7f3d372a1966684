// A migration's DAG with one node per table, as the runtime runs it.
//
// The compiler's DAG (compiler/lower.h) has one chain per object *rule*, globs as written;
// once the source catalog is read, each rule becomes one chain per selected table:
// precheck → capture → schema.pre(t) → load(t) → schema.post(t) → incremental → verify.
#pragma once

#include <string>
#include <vector>

#include "compiler/ir.h"
#include "runtime/mapping.h"

namespace ferry::runtime {

struct Node {
  int id = 0;
  ir::StageKind kind = ir::StageKind::kPrecheck;
  std::string object;      // "shop.orders → shop_v2.orders_2024", or empty
  std::vector<int> after;
  std::string loc;
};

std::vector<Node> ExpandDag(const ir::Migration& m, const Selection& selection);

}  // namespace ferry::runtime
