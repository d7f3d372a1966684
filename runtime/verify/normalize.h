// How verify compares a column across engines: each side reads the column through an SQL
// expression that gives its canonical text, so that equal data compares equal whatever the
// engines, and data that differs never does.
//
// The canonical forms follow the type map the load used (values.h): integers and booleans
// from tinyint(1) as decimal integers; decimals without trailing zeros when the two scales
// differ; floats as their shortest round-trip digits (the value, not an engine's print form;
// -0 is 0); timestamps in UTC with the larger of the two precisions; CHAR values without
// their trailing pad; SET members as "a,b"; binary as hex; JSON across engines by Ferry after
// reading (CanonicalJson), since no SQL both engines have orders keys the same way. Where the
// two sides have the same engine and type, a column is read as it is.
//
// A row's canonical text (RowText) joins its columns so that no two different rows give the
// same text: NULL is `N`, and a value that could hold the separator carries its length.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "compiler/ir.h"
#include "runtime/mapping.h"

namespace ferry::runtime {

struct CompareColumn {
  std::string name;      // the source column, as reports name it
  std::string src, dst;  // each side's SQL for the canonical text (NULL stays NULL)
  bool json = false;     // read as it is and made canonical by Ferry (CanonicalJson)
  bool fixed = false;    // the canonical text is a number, date or hex: never holds '|'
};

CompareColumn PlanCompare(ir::Engine from, ir::Engine to, const ColumnMapping& column, ir::ZeroDates zero_dates);

// The SQL (engine e) of a row's canonical text over the given columns' expressions (the
// src or dst side of each); columns with json set are left out (Ferry adds them).
std::string RowText(ir::Engine e, const std::vector<CompareColumn>& columns, bool source);

// JSON with object keys sorted, no insignificant space, strings re-escaped the one way and
// numbers as CanonicalNumber: equal documents give equal text, whichever engine printed them.
// Text that is not JSON is returned marked as such, so that it still compares as text.
std::string CanonicalJson(std::string_view text);

// A decimal number's value as shortest digits and exponent ("1e2" and "100.0" are "1e3"
// read as 0.1 × 10^3, printed "1e3"): sign, significant digits, 'e', exponent. Text that is
// not a number is returned as it is.
std::string CanonicalNumber(std::string_view text);

}  // namespace ferry::runtime
