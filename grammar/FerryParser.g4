// The Ferry plan language: structure (LANGUAGE.md §2–4).
//
// The grammar is deliberately permissive about *which* attributes and statements appear
// where: the compiler checks that against its schema of blocks, which gives far better
// messages ("unknown attribute `wokers`; did you mean `workers`?") than a parser could.
// What the grammar fixes is the shape: attributes, object rules, map rules, nested blocks.
parser grammar FerryParser;

options { tokenVocab = FerryLexer; }

file : (importDecl | declaration | separator)* EOF;

importDecl : IMPORT STRING;

// account x { … }   typemap ours extends base { … }
declaration : kind=IDENT name=label (EXTENDS base=label)? block;

block : LBRACE member* RBRACE;

member
  : attribute
  | objectRule
  | excludeRule
  | mapRule
  | subBlock
  | separator
  ;

separator : SEMI | COMMA;

attribute : key=word EQUALS value;

// schema shop -> shop_v2 { … }    table "audit_*" -> "archive_*"    column a -> b
objectRule : kind=(SCHEMA | TABLE | COLUMN) source=label (ARROW target=label)? block?;

excludeRule : EXCLUDE kind=(SCHEMA | TABLE | COLUMN) source=label;

// map "tinyint(1)" -> "boolean"
mapRule : MAP pattern=STRING ARROW target=STRING;

// objects { … }   retry { … }   throttle full { … }
subBlock : kind=IDENT qualifier=word? block;

value
  : STRING                                           # StringValue
  | NUMBER                                           # NumberValue
  | QUANTITY                                         # QuantityValue
  | callee=IDENT LPAREN (value (COMMA value)*)? RPAREN  # CallValue
  | word                                             # WordValue
  | LBRACKET (value | COMMA)* RBRACKET               # ListValue
  ;

// A name: identifiers and the contextual keywords.
word : IDENT | IMPORT | EXTENDS | SCHEMA | TABLE | COLUMN | EXCLUDE | MAP;

label : word | STRING;
