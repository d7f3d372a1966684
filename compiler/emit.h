// The forms of a lowered plan: text for review, JSON for machines (with a format version),
// DOT for a picture of the DAG. Deterministic: the same plan gives the same bytes.
// None of them contains a secret's value: secrets are shown as their references.
#pragma once

#include <string>

#include "compiler/ir.h"

namespace ferry {

std::string EmitText(const ir::Plan& plan);
std::string EmitJson(const ir::Plan& plan);
std::string EmitDot(const ir::Plan& plan);

}  // namespace ferry
