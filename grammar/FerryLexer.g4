// The Ferry plan language: tokens (LANGUAGE.md §1).
//
// The lexer never fails: anything it cannot use becomes an ERROR_* token that the AST
// builder reports as a coded diagnostic. Comments go to their own channel so that
// `ferry fmt` can keep them.
lexer grammar FerryLexer;

channels { COMMENTS, ERRORS }

LINE_COMMENT  : ('#' | '//') ~[\r\n]* -> channel(COMMENTS);
BLOCK_COMMENT : '/*' COMMENT_BODY '*'+ '/' -> channel(COMMENTS);
// An unclosed comment still goes to the comment channel; the AST builder reports it.
UNTERMINATED_COMMENT : '/*' COMMENT_BODY '*'* EOF -> channel(COMMENTS);
// Comment text that holds no `*/`: keeps the unterminated form from out-matching a closed one.
fragment COMMENT_BODY : (~'*' | '*'+ ~[*/])*;

WS : [ \t\r\n\u000C\uFEFF]+ -> skip;

// Contextual keywords: the parser also accepts them wherever a name is due.
IMPORT  : 'import';
EXTENDS : 'extends';
SCHEMA  : 'schema';
TABLE   : 'table';
COLUMN  : 'column';
EXCLUDE : 'exclude';
MAP     : 'map';

IDENT : [A-Za-z_] [A-Za-z0-9_]*;

// A number with a unit glued to it (`30s`, `40MB`); the AST builder checks the unit.
QUANTITY : DIGITS ('.' DIGITS)? [A-Za-z]+;
NUMBER   : DIGITS ('.' DIGITS)?;
fragment DIGITS : [0-9]+;

STRING : '"' (ESCAPE | ~["\\\r\n])* '"';
// An unclosed string is still a STRING to the parser (no cascade of syntax errors); the AST
// builder sees it lacks its closing quote and reports it.
UNTERMINATED_STRING : '"' (ESCAPE | ~["\\\r\n])* -> type(STRING);
fragment ESCAPE : '\\' ~[\r\n];

ARROW    : '->';
EQUALS   : '=';
LBRACE   : '{';
RBRACE   : '}';
LBRACKET : '[';
RBRACKET : ']';
LPAREN   : '(';
RPAREN   : ')';
SEMI     : ';';
COMMA    : ',';

// Anything else: kept off the parser's channel and reported by the AST builder.
ERROR_CHAR : . -> channel(ERRORS);
