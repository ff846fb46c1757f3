/* parser.y — the grammar of the nncc model language (docs/language.md).
 *
 * A pure, reentrant LALR(1) parser with LAC and custom syntax error
 * messages.  Actions are thin: they call the ast_new_*() constructors of
 * ast.c.  Between the flex scanner and the parser sits yylex() below,
 * which
 *   - keeps a stack of the open brackets, so that a message can name the
 *     bracket a missing closer belongs to ("expected ')' to close '(' at
 *     3:14");
 *   - turns a keyword inside brackets into a plain name unless what
 *     follows starts its statement (`train = ...` in a data block and
 *     `label = 0` in csv(...) are names, `train {` is not);
 *   - after a syntax error, skips tokens up to a safe point to resume
 *     (panic mode, see try_resync): inside a block, the next entry (a name
 *     at the start of a line, not continuing an expression) or the block's
 *     '}' when a statement follows it; else the next statement keyword at
 *     the start of a line.  It then hands the parser a RESYNC token that
 *     the error rules consume and which re-enables error messages
 *     (yyerrok), plus the '}' of a block that lacks one, so that
 *     independent mistakes on later lines are all reported but a single
 *     mistake gives a single message.  The token the error was found at
 *     is handed back if it is such a safe point.
 *
 * A syntax error at or just after a token the scanner has complained
 * about is not reported, and the scanner keeps quiet about the rest of
 * the line of a syntax error: one mistake, one message.
 */

%code top {
#include <limits.h>
#include <stdlib.h>
#include <string.h>
}

%code requires {
#include "nncc.h"

#ifndef YY_TYPEDEF_YY_SCANNER_T
#define YY_TYPEDEF_YY_SCANNER_T
typedef void *yyscan_t;
#endif

/* Token and rule locations: line and column (1-based, inclusive) of the
 * first and last character, and the byte offsets [off, end) in the source.
 * loc_of() turns one into a diag.c Loc. */
typedef struct YYLTYPE {
  int first_line, first_column;
  int last_line, last_column;
  int off, end;
} YYLTYPE;
#define YYLTYPE_IS_DECLARED 1

/* The scanner's state (flex's yyextra): where the next character is. */
typedef struct LexState {
  const char *src; /* the whole source, for the end-of-file location */
  int line, col, off;
  int errors;      /* lexical errors so far */
  int quiet_line;  /* report no lexical error on this line or before */
} LexState;

typedef struct ArgVec {
  Arg *v;
  int n, cap;
} ArgVec;

typedef struct DimVec {
  int *v;
  Loc *locs;
  int n, cap;
} DimVec;

typedef struct ParseState ParseState;
}

%code provides {
/* One token as the scanner produced it. */
typedef struct Token {
  int kind;     /* yytoken_kind_t, or a character for punctuation */
  YYSTYPE val;
  YYLTYPE loc;
  bool bol;     /* first token of its line */
  bool lexerr;  /* a lexical error was reported in or just before it */
} Token;

/* An open bracket. */
typedef struct Bracket {
  char ch;      /* ( [ { */
  bool call;    /* '(' of a call: name( */
  Loc loc;
} Bracket;

/* The parser's state, passed to yylex, the actions and the error reporter. */
struct ParseState {
  Program *prog;
  const char *src;
  yyscan_t scanner;
  Bracket *br;          /* open brackets, innermost last */
  int nbr, capbr;
  /* The tokens returned last (hist[2] is the current lookahead). */
  struct { int kind; YYLTYPE loc; bool bol, lexerr; } hist[3];
  bool la_pushed;       /* the lookahead opened a bracket */
  bool la_popped;       /* the lookahead closed the bracket `popped` */
  Bracket popped;
  Token peek;           /* one token read ahead from the scanner */
  bool has_peek;
  Token queue[8];       /* tokens to return before scanning on */
  int qhead, qlen;
  enum { SKIP_NONE, SKIP_TOP, SKIP_BLOCK } skip; /* panic mode */
  int skip_depth;       /* SKIP_BLOCK: index in br of the block's '{' */
  /* The offset of the token the last syntax error was found at, and how
   * many errors in a row were found at it.  A second error at the same
   * token means the token handed back after the first cannot be taken
   * where the parser is (the bracket stack and the parser's disagree
   * about an open block): the second closes the block before it, a third
   * drops it, so every error consumes input and the parse ends. */
  int err_off, err_repeat;
};

#define YY_DECL int nn_lex(YYSTYPE *yylval_param, YYLTYPE *yylloc_param, \
                           yyscan_t yyscanner)
YY_DECL;

Loc loc_of(YYLTYPE l);
}

%code {
#include "lexer.h"

static int yylex(YYSTYPE *lval, YYLTYPE *lloc, yyscan_t scanner, ParseState *ps);
static void yyerror(YYLTYPE *loc, yyscan_t scanner, ParseState *ps, const char *msg);
static void dim_push(ParseState *ps, DimVec *d, double v, bool is_int, YYLTYPE loc);

/* A rule's location spans its first to its last symbol; an empty rule
 * sits at the end of the symbol before it. */
#define YYLLOC_DEFAULT(Cur, Rhs, N)                                         \
  do {                                                                      \
    if (N) {                                                                \
      (Cur).first_line = YYRHSLOC(Rhs, 1).first_line;                       \
      (Cur).first_column = YYRHSLOC(Rhs, 1).first_column;                   \
      (Cur).off = YYRHSLOC(Rhs, 1).off;                                     \
      (Cur).last_line = YYRHSLOC(Rhs, N).last_line;                         \
      (Cur).last_column = YYRHSLOC(Rhs, N).last_column;                     \
      (Cur).end = YYRHSLOC(Rhs, N).end;                                     \
    } else {                                                                \
      (Cur).first_line = (Cur).last_line = YYRHSLOC(Rhs, 0).last_line;     \
      (Cur).first_column = (Cur).last_column =                              \
          YYRHSLOC(Rhs, 0).last_column + 1;                                 \
      (Cur).off = (Cur).end = YYRHSLOC(Rhs, 0).end;                         \
    }                                                                       \
  } while (0)

#define L(l) loc_of(l)
}

%define api.pure full
%define parse.error custom
%define parse.lac full
%locations
%param {yyscan_t scanner} {ParseState *ps}
%expect 0

%union {
  char *str;
  struct { double v; bool is_int; } num;
  Expr *expr;
  Stmt *stmt;
  Arg arg;
  ArgVec args;
  DimVec dims;
}

%token <str> IDENT "name"
%token <num> NUMBER "number"
%token <str> STRING "string"
%token MODEL "'model'"
%token INPUT "'input'"
%token LABEL "'label'"
%token LAYER "'layer'"
%token LOSS "'loss'"
%token DATA "'data'"
%token TRAIN "'train'"
/* Never written: yylex's marker that the parser may resume after an error. */
%token RESYNC "resync"

%type <stmt> stmt
%type <dims> dims dim_list
%type <args> block entries args arg_list list_items
%type <arg> entry arg
%type <expr> call expr term unary primary

%destructor { free($$); } <str>
%destructor { ast_stmt_free($$); } <stmt>
%destructor { free($$.v); free($$.locs); } <dims>
%destructor { ast_args_free($$.v, $$.n); } <args>
%destructor { free($$.key); ast_expr_free($$.val); } <arg>
%destructor { ast_expr_free($$); } <expr>

%%

/* program = { stmt } ; */
program:
  %empty
| program stmt            { if ($2) ast_program_add(ps->prog, $2); }
;

/* stmt = "model" IDENT
        | "input" IDENT [ ":" IDENT ] dims
        | "label" IDENT ":" IDENT dims
        | "layer" IDENT "=" call
        | "loss" call
        | "data" block
        | "train" block ;
   After a syntax error the parser resumes at the next statement keyword. */
stmt:
  MODEL IDENT             { $$ = ast_new_stmt(ST_MODEL, L(@1));
                            $$->name = $2; $$->name_loc = L(@2); }
| INPUT IDENT dims        { $$ = ast_new_stmt(ST_INPUT, L(@1));
                            $$->name = $2; $$->name_loc = L(@2);
                            $$->dims = $3.v; $$->dim_locs = $3.locs;
                            $$->ndims = $3.n; $$->dims_loc = L(@3); }
| INPUT IDENT ':' IDENT dims
                          { $$ = ast_new_stmt(ST_INPUT, L(@1));
                            $$->name = $2; $$->name_loc = L(@2);
                            $$->type = $4; $$->type_loc = L(@4);
                            $$->dims = $5.v; $$->dim_locs = $5.locs;
                            $$->ndims = $5.n; $$->dims_loc = L(@5); }
| LABEL IDENT ':' IDENT dims
                          { $$ = ast_new_stmt(ST_LABEL, L(@1));
                            $$->name = $2; $$->name_loc = L(@2);
                            $$->type = $4; $$->type_loc = L(@4);
                            $$->dims = $5.v; $$->dim_locs = $5.locs;
                            $$->ndims = $5.n; $$->dims_loc = L(@5); }
| LAYER IDENT '=' call    { $$ = ast_new_stmt(ST_LAYER, L(@1));
                            $$->name = $2; $$->name_loc = L(@2);
                            $$->call = $4; }
| LOSS call               { $$ = ast_new_stmt(ST_LOSS, L(@1)); $$->call = $2; }
| DATA block              { $$ = ast_new_stmt(ST_DATA, L(@1));
                            $$->entries = $2.v; $$->nentries = $2.n; }
| TRAIN block             { $$ = ast_new_stmt(ST_TRAIN, L(@1));
                            $$->entries = $2.v; $$->nentries = $2.n; }
| error RESYNC            { $$ = NULL; yyerrok; }
;

/* dims = "[" INT { "," INT } "]" ; */
dims:
  '[' dim_list ']'        { $$ = $2; }
;

dim_list:
  NUMBER                  { $$ = (DimVec){0};
                            dim_push(ps, &$$, $1.v, $1.is_int, @1); }
| dim_list ',' NUMBER     { $$ = $1; dim_push(ps, &$$, $3.v, $3.is_int, @3); }
;

/* block = "{" { IDENT "=" expr [ "," | ";" ] } "}" ;
   An error inside a block resumes at the next entry or at the block's '}'
   (yylex supplies a '}' that is missing before the next statement). */
block:
  '{' entries '}'         { $$ = $2; }
;

entries:
  %empty                  { $$ = (ArgVec){0}; }
| entries entry           { $$ = $1; VEC_PUSH($$.v, $$.n, $$.cap, $2); }
| entries error RESYNC    { $$ = $1; yyerrok; }
;

/* entry = IDENT "=" expr [ "," | ";" ] ; */
entry:
  IDENT '=' expr separator
                          { $$ = (Arg){$1, L(@1), $3}; }
;

separator:
  %empty
| ','
| ';'
;

/* call = IDENT "(" [ arg { "," arg } ] ")" ; */
call:
  IDENT '(' args ')'      { $$ = ast_new_call(L(@$), $1, $3.v, $3.n); }
;

args:
  %empty                  { $$ = (ArgVec){0}; }
| arg_list
;

arg_list:
  arg                     { $$ = (ArgVec){0}; VEC_PUSH($$.v, $$.n, $$.cap, $1); }
| arg_list ',' arg        { $$ = $1; VEC_PUSH($$.v, $$.n, $$.cap, $3); }
;

/* arg = expr | IDENT "=" expr ; */
arg:
  expr                    { $$ = (Arg){NULL, {0, 0, 0}, $1}; }
| IDENT '=' expr          { $$ = (Arg){$1, L(@1), $3}; }
;

/* expr = term { ("+" | "-") term } ; */
expr:
  term
| expr '+' term           { $$ = ast_new_bin(L(@$), '+', $1, $3); }
| expr '-' term           { $$ = ast_new_bin(L(@$), '-', $1, $3); }
;

/* term = unary { ("*" | "/") unary } ; */
term:
  unary
| term '*' unary          { $$ = ast_new_bin(L(@$), '*', $1, $3); }
| term '/' unary          { $$ = ast_new_bin(L(@$), '/', $1, $3); }
;

/* unary = "-" unary | primary ; */
unary:
  '-' unary               { $$ = ast_new_neg(L(@$), $2); }
| primary
;

/* primary = NUMBER | STRING | IDENT | call | "(" expr ")"
           | "[" [ expr { "," expr } ] "]" ; */
primary:
  NUMBER                  { $$ = ast_new_num(L(@1), $1.v, $1.is_int); }
| STRING                  { $$ = ast_new_str(L(@1), $1); }
| IDENT                   { $$ = ast_new_ident(L(@1), $1); }
| call
| '(' expr ')'            { $$ = $2; }
| '[' ']'                 { $$ = ast_new_list(L(@$), NULL, 0); }
| '[' list_items ']'      { $$ = ast_new_list(L(@$), $2.v, $2.n); }
;

list_items:
  expr                    { $$ = (ArgVec){0};
                            VEC_PUSH($$.v, $$.n, $$.cap, ((Arg){NULL, {0, 0, 0}, $1})); }
| list_items ',' expr     { $$ = $1;
                            VEC_PUSH($$.v, $$.n, $$.cap, ((Arg){NULL, {0, 0, 0}, $3})); }
;

%%

Loc loc_of(YYLTYPE l) {
  return (Loc){l.first_line, l.first_column, l.end > l.off ? l.end - l.off : 1};
}

/* The source text of a token or rule. */
static const char *src_at(const ParseState *ps, YYLTYPE l, int *len) {
  *len = l.end - l.off;
  return ps->src + l.off;
}

static void dim_push(ParseState *ps, DimVec *d, double v, bool is_int, YYLTYPE loc) {
  if (!is_int || v > INT_MAX) {
    int n;
    const char *s = src_at(ps, loc, &n);
    if (!is_int)
      error_at(L(loc), "expected an integer dimension, saw '%.*s'", n, s);
    else
      error_at(L(loc), "dimension '%.*s' is too large", n, s);
    v = 1;
  }
  if (d->n == d->cap) {
    d->cap = d->cap ? 2 * d->cap : 4;
    d->v = xrealloc(d->v, (size_t)d->cap * sizeof *d->v);
    d->locs = xrealloc(d->locs, (size_t)d->cap * sizeof *d->locs);
  }
  d->v[d->n] = (int)v;
  d->locs[d->n] = L(loc);
  d->n++;
}

/* ------------------------------------------------------------- tokens */

static bool is_stmt_kw(int kind) {
  switch (kind) {
  case MODEL: case INPUT: case LABEL: case LAYER: case LOSS: case DATA: case TRAIN:
    return true;
  default:
    return false;
  }
}

static void token_free(Token *t) {
  if (t->kind == IDENT || t->kind == STRING) free(t->val.str);
  t->kind = YYEMPTY;
}

/* The next token from the scanner (or the one read ahead). */
static void raw_next(ParseState *ps, Token *t) {
  if (ps->has_peek) {
    *t = ps->peek;
    ps->has_peek = false;
    return;
  }
  LexState *ls = yyget_extra(ps->scanner);
  int before = ls->errors;
  memset(t, 0, sizeof *t);
  t->kind = nn_lex(&t->val, &t->loc, ps->scanner);
  t->lexerr = ls->errors != before;
}

static int peek_kind(ParseState *ps);

static char closer(char open) { return open == '(' ? ')' : open == '[' ? ']' : '}'; }

/* The next token with keywords-as-keys renamed and the brackets tracked. */
static void next_token(ParseState *ps, Token *t) {
  raw_next(ps, t);
  if (is_stmt_kw(t->kind) && ps->nbr > 0) {
    /* Inside brackets a keyword is a name (`train = ...` in a data block)
     * unless it is followed by what its statement needs next. */
    int want = t->kind == DATA || t->kind == TRAIN ? '{' : IDENT;
    if (peek_kind(ps) != want) {
      int n;
      const char *s = src_at(ps, t->loc, &n);
      t->kind = IDENT;
      t->val.str = xstrndup(s, (size_t)n);
    }
  }
  int prev = ps->hist[2].kind;
  t->bol = t->loc.first_line > ps->hist[2].loc.last_line;
  ps->la_pushed = ps->la_popped = false;
  switch (t->kind) {
  case '(': case '[': case '{': {
    Bracket b = {(char)t->kind, t->kind == '(' && prev == IDENT, L(t->loc)};
    VEC_PUSH(ps->br, ps->nbr, ps->capbr, b);
    ps->la_pushed = true;
    break;
  }
  case ')': case ']': case '}':
    if (ps->nbr > 0 && closer(ps->br[ps->nbr - 1].ch) == t->kind) {
      ps->popped = ps->br[--ps->nbr];
      ps->la_popped = true;
    }
    break;
  default:
    break;
  }
  ps->hist[0] = ps->hist[1];
  ps->hist[1] = ps->hist[2];
  ps->hist[2].kind = t->kind;
  ps->hist[2].loc = t->loc;
  ps->hist[2].bol = t->bol;
  ps->hist[2].lexerr = t->lexerr;
}

static void enqueue(ParseState *ps, int kind, const Token *t) {
  if (ps->qlen == 8) die("parser: token queue overflow");
  Token *q = &ps->queue[(ps->qhead + ps->qlen++) % 8];
  if (t && kind == t->kind) {
    *q = *t;
  } else { /* RESYNC or a missing '}' just before t */
    memset(q, 0, sizeof *q);
    q->kind = kind;
    q->loc = t->loc;
    q->loc.end = q->loc.off;
  }
}

/* The kind of the token after the current one. */
static int peek_kind(ParseState *ps) {
  if (!ps->has_peek) {
    raw_next(ps, &ps->peek);
    ps->has_peek = true;
  }
  return ps->peek.kind;
}

/* A token after a name that makes the name part of an expression. */
static bool continues_expr(int kind) {
  switch (kind) {
  case '+': case '-': case '*': case '/': case '(': case ')': case ']': case ',':
    return true;
  default:
    return false;
  }
}

/* In panic mode, is `t` a place to resume parsing?  If so, queue a RESYNC
 * for the error rule, a '}' that an unterminated block lacks, and t itself,
 * and leave panic mode.  A statement keyword counts only at the start of
 * a line, so that `layer model = ...` does not resume at `model`. */
static bool try_resync(ParseState *ps, Token *t) {
  /* `train = idx(...)` of a data block whose '{' is missing is no
   * statement (but `layer = ...` is one that lacks its name) */
  bool stmt_start = t->kind == YYEOF ||
                    (is_stmt_kw(t->kind) && t->bol &&
                     !((t->kind == TRAIN || t->kind == DATA) && peek_kind(ps) == '='));
  if (ps->skip == SKIP_TOP) {
    if (!stmt_start) return false;
    ps->nbr = 0;
    enqueue(ps, RESYNC, t);
  } else if (stmt_start) { /* SKIP_BLOCK, and the '}' is missing */
    ps->nbr = 0;
    enqueue(ps, RESYNC, t);
    enqueue(ps, '}', t);
  } else if (t->kind == '}') {
    if (!ps->la_popped) { /* a '}' closes all that is open up to its '{' */
      int i = ps->nbr - 1;
      while (i >= 0 && ps->br[i].ch != '{') i--;
      if (i < 0) return false;
      ps->popped = ps->br[i];
      ps->la_popped = true;
      ps->nbr = i;
    }
    if (ps->nbr != ps->skip_depth || ps->popped.ch != '{') return false;
    /* Only a '}' followed by a statement ends the block: after a stray
     * '}' in `seed = }42` go on skipping. */
    int next = peek_kind(ps);
    if (next != YYEOF && !is_stmt_kw(next)) return false;
    enqueue(ps, RESYNC, t);
  } else if (t->kind == IDENT && t->bol && ps->nbr == ps->skip_depth + 1 &&
             !continues_expr(peek_kind(ps))) {
    enqueue(ps, RESYNC, t); /* the next entry of the block */
  } else {
    return false;
  }
  enqueue(ps, t->kind, t);
  ps->skip = SKIP_NONE;
  return true;
}

/* The scanner as the parser sees it; see the comment at the top. */
static int yylex(YYSTYPE *lval, YYLTYPE *lloc, yyscan_t scanner, ParseState *ps) {
  (void)scanner;
  Token t;
  for (;;) {
    if (ps->qlen > 0) {
      t = ps->queue[ps->qhead];
      ps->qhead = (ps->qhead + 1) % 8;
      ps->qlen--;
      break;
    }
    next_token(ps, &t);
    if (ps->skip == SKIP_NONE) break;
    if (!try_resync(ps, &t)) token_free(&t);
  }
  *lval = t.val;
  *lloc = t.loc;
  return t.kind;
}

/* ------------------------------------------------------- error messages */

static const char *const stmt_keywords[] = {"model", "input", "label", "layer",
                                            "loss",  "data",  "train"};
static const int stmt_tokens[] = {MODEL, INPUT, LABEL, LAYER, LOSS, DATA, TRAIN};

typedef struct Expect {
  yysymbol_kind_t sym[YYNTOKENS];
  int n;
} Expect;

static bool expects(const Expect *e, int token) {
  yysymbol_kind_t k = YYTRANSLATE(token);
  for (int i = 0; i < e->n; i++)
    if (e->sym[i] == k) return true;
  return false;
}

/* How a token kind is named in "expected ..." lists. */
static const char *sym_desc(yysymbol_kind_t k, char *buf, size_t n) {
  switch (k) {
  case YYSYMBOL_YYEOF: return "end of file";
  case YYSYMBOL_IDENT: return "a name";
  case YYSYMBOL_NUMBER: return "a number";
  case YYSYMBOL_STRING: return "a string";
  default: break;
  }
  const char *s = yysymbol_name(k);
  size_t len = strlen(s);
  if (len >= 2 && s[0] == '"' && s[len - 1] == '"') { /* "'model'" */
    s++;
    len -= 2;
  }
  snprintf(buf, n, "%.*s", (int)len, s);
  return buf;
}

/* How the token hist[i] is shown after "saw": its text, quoted. */
static char *tok_desc(const ParseState *ps, int i) {
  int n;
  const char *s = src_at(ps, ps->hist[i].loc, &n);
  if (ps->hist[i].kind == YYEOF) return xstrdup("end of file");
  if (ps->hist[i].kind == STRING) {
    if (n > 32) return xasprintf("%.28s...\"", s);
    return xasprintf("%.*s", n, s);
  }
  if (n > 32) return xasprintf("'%.28s...'", s);
  return xasprintf("'%.*s'", n, s);
}

static const char *a_name_after(int kw) {
  switch (kw) {
  case MODEL: return "a model name";
  case INPUT: return "an input name";
  case LABEL: return "a label name";
  case LAYER: return "a layer name";
  case LOSS: return "a loss function";
  default: return "a name";
  }
}

/* What was expected, in words, for the expected-token set `e` in the
 * context of the last tokens (hist[0], hist[1]) before the lookahead. */
static char *expected_phrase(const ParseState *ps, const Expect *e) {
  int la = ps->hist[2].kind, prev = ps->hist[1].kind, prev2 = ps->hist[0].kind;
  char *prevd = tok_desc(ps, 1), *r = NULL;
  /* The innermost open bracket before the lookahead's own. */
  const Bracket *open = NULL;
  int nopen = ps->nbr - (ps->la_pushed ? 1 : 0);
  if (nopen > 0) open = &ps->br[nopen - 1];
  /* The innermost bracket around the previous token. */
  const Bracket *around = ps->la_popped ? &ps->popped : open;

  bool all_kw = true;
  for (size_t i = 0; i < sizeof stmt_tokens / sizeof *stmt_tokens; i++)
    all_kw = all_kw && expects(e, stmt_tokens[i]);
  if (all_kw) {
    r = xstrdup("a statement (model, input, label, layer, loss, data, train)");
  } else if (expects(e, NUMBER) && !expects(e, STRING)) {
    r = xstrdup("an integer dimension");
  } else if (expects(e, NUMBER)) {
    bool arg = around && around->call && (prev == '(' || prev == ',');
    const char *what = arg ? "an argument" : "a value";
    if (around && expects(e, closer(around->ch)) && prev == around->ch)
      r = xasprintf("%s or '%c' after %s", what, closer(around->ch), prevd);
    else
      r = xasprintf("%s after %s", what, prevd);
  } else if (expects(e, IDENT) && expects(e, '}') && !is_stmt_kw(la) && la != YYEOF) {
    r = xstrdup("'name = value' or '}'");
  } else if (open && expects(e, closer(open->ch))) {
    r = xasprintf("'%c' to close '%c' at %d:%d", closer(open->ch), open->ch,
                  open->loc.line, open->loc.col);
  } else if (e->n == 1 && expects(e, '=') && prev == IDENT && prev2 == LAYER) {
    r = xasprintf("'=' after layer name %s", prevd);
  } else if (expects(e, '[') && prev == IDENT && prev2 == INPUT) { /* or ':' and a type */
    r = xasprintf("'[' after input name %s", prevd);
  } else if (e->n == 1 && expects(e, ':') && prev == IDENT && prev2 == LABEL) {
    r = xasprintf("':' after label name %s", prevd);
  } else if (e->n == 1 && expects(e, '[') && prev == IDENT && prev2 == ':') {
    r = xasprintf("'[' after type %s", prevd);
  } else if (e->n == 1 && expects(e, IDENT) && prev == ':') {
    r = xstrdup("a type (int or real) after ':'");
  } else if (e->n == 1 && expects(e, IDENT) && prev == '=' && prev2 == IDENT) {
    r = xstrdup("an operation such as dense(...) after '='");
  } else if (e->n == 1 && expects(e, IDENT) && is_stmt_kw(prev)) {
    r = xasprintf("%s after %s", a_name_after(prev), prevd);
  } else if (e->n > 0 && e->n <= 4) {
    /* 'a', 'b' or 'c' [after 'x'] */
    size_t cap = 256, len = 0;
    r = xmalloc(cap);
    r[0] = '\0';
    for (int i = 0; i < e->n; i++) {
      char buf[32];
      const char *d = sym_desc(e->sym[i], buf, sizeof buf);
      len += (size_t)snprintf(r + len, cap - len, "%s%s",
                              i == 0 ? "" : i == e->n - 1 ? " or " : ", ", d);
    }
    if (e->n == 1 && prev != YYEMPTY && prev != 0) {
      char *t = xasprintf("%s after %s", r, prevd);
      free(r);
      r = t;
    }
  }
  free(prevd);
  return r;
}

static int yyreport_syntax_error(const yypcontext_t *ctx, yyscan_t scanner, ParseState *ps) {
  (void)scanner;
  Expect e;
  e.n = yypcontext_expected_tokens(ctx, e.sym, YYNTOKENS);
  if (e.n < 0) e.n = 0;
  for (int i = 0; i < e.n; i++) /* RESYNC is nothing a user can write */
    if (e.sym[i] == YYSYMBOL_RESYNC) e.sym[i--] = e.sym[--e.n];

  int la = ps->hist[2].kind;
  ps->err_repeat = ps->hist[2].loc.off == ps->err_off ? ps->err_repeat + 1 : 0;
  ps->err_off = ps->hist[2].loc.off;
  if (ps->err_repeat > 0) /* reported already */
    goto recover;
  /* The scanner has reported this token or the one before it, or a bad
   * character between them: `t@rue`, an unterminated string that ate the
   * rest of the line. */
  if (ps->hist[2].lexerr || ps->hist[1].lexerr)
    goto recover;

  Loc at = L(*yypcontext_location(ctx));
  int prev = ps->hist[1].kind, prev2 = ps->hist[0].kind;
  if (la == '=' && prev == IDENT && prev2 > 0 && prev2 < 128 && strchr("=+-*/", prev2)) {
    /* `seed = 1 +` <newline> `shuffle = true`: the value is missing and
     * the next key was taken for it. */
    char *op = tok_desc(ps, 0), *saw = tok_desc(ps, 1);
    error_at(L(ps->hist[1].loc), "expected a value after %s, saw %s", op, saw);
    free(op);
    free(saw);
    goto recover;
  }

  char *want = expected_phrase(ps, &e);
  if (la == YYEOF) {
    if (want)
      error_at(at, "unexpected end of file: expected %s", want);
    else
      error_at(at, "unexpected end of file");
  } else {
    char *saw = tok_desc(ps, 2);
    const char *hint = NULL;
    if (la == IDENT && want && !strncmp(want, "a statement", 11)) {
      int n;
      const char *s = src_at(ps, ps->hist[2].loc, &n);
      char *word = xstrndup(s, (size_t)n);
      hint = closest_word(word, stmt_keywords,
                          (int)(sizeof stmt_keywords / sizeof *stmt_keywords));
      free(word);
    }
    /* `idx("a.gz, "b.gz")`: a string glued to a name or number */
    bool glued = prev == STRING && ps->hist[2].loc.off == ps->hist[1].loc.end &&
                 (la == IDENT || la == NUMBER || is_stmt_kw(la));
    if (want && hint)
      error_at(at, "expected %s, saw %s; did you mean '%s'?", want, saw, hint);
    else if (want && glued)
      error_at(at, "expected %s, saw %s right after a string; is a '\"' missing?", want, saw);
    else if (want)
      error_at(at, "expected %s, saw %s", want, saw);
    else
      error_at(at, "unexpected %s", saw);
    free(saw);
  }
  free(want);

recover:;
  /* Panic mode: skip to the next entry if inside a block, else to the
   * next statement.  What the scanner finds wrong in the rest of the line
   * is most likely the same mistake: it keeps quiet about it. */
  yyget_extra(ps->scanner)->quiet_line = ps->hist[2].loc.last_line;
  int nopen = ps->nbr - (ps->la_pushed ? 1 : 0);
  ps->skip = SKIP_TOP;
  if (ps->la_popped && ps->popped.ch == '{') { /* `x = }` */
    ps->skip = SKIP_BLOCK;
    ps->skip_depth = ps->nbr;
  }
  for (int i = nopen - 1; i >= 0 && ps->skip == SKIP_TOP; i--) {
    if (ps->br[i].ch == '{') {
      ps->skip = SKIP_BLOCK;
      ps->skip_depth = i;
    }
  }
  /* The parser drops the lookahead after the error; if it is where to
   * resume, hand a copy back.  (At end of file the parser stops.) */
  if (ps->err_repeat == 1 && ps->skip == SKIP_TOP) {
    ps->skip = SKIP_BLOCK; /* resume with a '}' before a statement */
    ps->skip_depth = 0;
  }
  if (la != YYEOF && ps->qlen == 0 && ps->err_repeat < 2) {
    Token t = {.kind = la, .loc = ps->hist[2].loc, .bol = ps->hist[2].bol};
    if (la == IDENT) {
      int n;
      const char *s = src_at(ps, t.loc, &n);
      t.val.str = xstrndup(s, (size_t)n);
    }
    if (!try_resync(ps, &t)) token_free(&t);
  }
  return 0;
}

static void yyerror(YYLTYPE *loc, yyscan_t scanner, ParseState *ps, const char *msg) {
  (void)scanner;
  (void)ps;
  error_at(L(*loc), "%s", msg);
}

/* --------------------------------------------------------------- driver */

Program *parse_program(const char *file, const char *src) {
  Program *p = xcalloc(1, sizeof *p);
  p->file = file;
  LexState ls = {.src = src, .line = 1, .col = 1};
  yyscan_t scanner;
  if (yylex_init_extra(&ls, &scanner)) die("cannot create the scanner");
  YY_BUFFER_STATE buf = yy_scan_string(src, scanner);
  ParseState ps = {.prog = p, .src = src, .scanner = scanner, .err_off = -1};
  ps.hist[0].kind = ps.hist[1].kind = ps.hist[2].kind = YYEMPTY;
  yyparse(scanner, &ps);
  if (ps.has_peek) token_free(&ps.peek);
  for (; ps.qlen > 0; ps.qlen--, ps.qhead = (ps.qhead + 1) % 8)
    token_free(&ps.queue[ps.qhead]);
  free(ps.br);
  yy_delete_buffer(buf, scanner);
  yylex_destroy(scanner);
  return p;
}
