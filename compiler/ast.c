/* ast.c — constructors, printing (--emit=ast) and freeing of the AST. */
#include "nncc.h"

#include <stdlib.h>
#include <string.h>

static Expr *new_expr(ExprKind kind, Loc loc) {
  Expr *e = xcalloc(1, sizeof *e);
  e->kind = kind;
  e->loc = loc;
  return e;
}

Expr *ast_new_num(Loc loc, double v, bool is_int) {
  Expr *e = new_expr(EX_NUM, loc);
  e->num = v;
  e->is_int = is_int;
  return e;
}

Expr *ast_new_str(Loc loc, char *s) {
  Expr *e = new_expr(EX_STR, loc);
  e->str = s;
  return e;
}

Expr *ast_new_ident(Loc loc, char *name) {
  Expr *e = new_expr(EX_IDENT, loc);
  e->str = name;
  return e;
}

Expr *ast_new_call(Loc loc, char *callee, Arg *args, int nargs) {
  Expr *e = new_expr(EX_CALL, loc);
  e->str = callee;
  e->args = args;
  e->nargs = nargs;
  return e;
}

Expr *ast_new_list(Loc loc, Arg *items, int nitems) {
  Expr *e = new_expr(EX_LIST, loc);
  e->args = items;
  e->nargs = nitems;
  return e;
}

Expr *ast_new_neg(Loc loc, Expr *x) {
  Expr *e = new_expr(EX_NEG, loc);
  e->lhs = x;
  return e;
}

Expr *ast_new_bin(Loc loc, char op, Expr *l, Expr *r) {
  Expr *e = new_expr(EX_BIN, loc);
  e->op = op;
  e->lhs = l;
  e->rhs = r;
  return e;
}

Stmt *ast_new_stmt(StmtKind kind, Loc loc) {
  Stmt *s = xcalloc(1, sizeof *s);
  s->kind = kind;
  s->loc = loc;
  return s;
}

void ast_program_add(Program *p, Stmt *s) { VEC_PUSH(p->stmts, p->nstmts, p->cap, s); }

const char *ast_stmt_keyword(StmtKind k) {
  switch (k) {
  case ST_MODEL: return "model";
  case ST_INPUT: return "input";
  case ST_LABEL: return "label";
  case ST_LAYER: return "layer";
  case ST_LOSS: return "loss";
  case ST_DATA: return "data";
  case ST_TRAIN: return "train";
  }
  return "?";
}

/* ---------------------------------------------------------------- free */

void ast_args_free(Arg *args, int n) {
  for (int i = 0; i < n; i++) {
    free(args[i].key);
    ast_expr_free(args[i].val);
  }
  free(args);
}

void ast_expr_free(Expr *e) {
  if (!e) return;
  free(e->str);
  ast_expr_free(e->lhs);
  ast_expr_free(e->rhs);
  ast_args_free(e->args, e->nargs);
  free(e);
}

void ast_stmt_free(Stmt *s) {
  if (!s) return;
  free(s->name);
  free(s->type);
  free(s->dims);
  free(s->dim_locs);
  ast_expr_free(s->call);
  ast_args_free(s->entries, s->nentries);
  free(s);
}

void ast_free(Program *p) {
  if (!p) return;
  for (int i = 0; i < p->nstmts; i++) ast_stmt_free(p->stmts[i]);
  free(p->stmts);
  free(p);
}

/* --------------------------------------------------------------- print */

/* The shortest %g form that reads back as the same double. */
void ast_print_num(FILE *out, double v) {
  char buf[40];
  if (v == (double)(long long)v && v > -1e15 && v < 1e15) {
    fprintf(out, "%lld", (long long)v);
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (strtod(buf, NULL) == v) break;
  }
  fputs(buf, out);
}

static void print_str(FILE *out, const char *s) {
  fputc('"', out);
  for (; *s; s++) {
    switch (*s) {
    case '"': fputs("\\\"", out); break;
    case '\\': fputs("\\\\", out); break;
    case '\n': fputs("\\n", out); break;
    case '\t': fputs("\\t", out); break;
    default: fputc(*s, out);
    }
  }
  fputc('"', out);
}

static void print_arg(FILE *out, const Arg *a) {
  if (a->key) {
    fprintf(out, "(= %s ", a->key);
    ast_print_expr(out, a->val);
    fputc(')', out);
  } else {
    ast_print_expr(out, a->val);
  }
}

void ast_print_expr(FILE *out, const Expr *e) {
  if (!e) {
    fputs("?", out);
    return;
  }
  switch (e->kind) {
  case EX_NUM: ast_print_num(out, e->num); break;
  case EX_STR: print_str(out, e->str); break;
  case EX_IDENT: fputs(e->str, out); break;
  case EX_CALL:
    fprintf(out, "(%s", e->str);
    for (int i = 0; i < e->nargs; i++) {
      fputc(' ', out);
      print_arg(out, &e->args[i]);
    }
    fputc(')', out);
    break;
  case EX_LIST:
    fputc('[', out);
    for (int i = 0; i < e->nargs; i++) {
      if (i) fputc(' ', out);
      print_arg(out, &e->args[i]);
    }
    fputc(']', out);
    break;
  case EX_NEG:
    fputs("(- ", out);
    ast_print_expr(out, e->lhs);
    fputc(')', out);
    break;
  case EX_BIN:
    fprintf(out, "(%c ", e->op);
    ast_print_expr(out, e->lhs);
    fputc(' ', out);
    ast_print_expr(out, e->rhs);
    fputc(')', out);
    break;
  }
}

static void print_dims(FILE *out, const Stmt *s) {
  fputs(" [", out);
  for (int i = 0; i < s->ndims; i++) fprintf(out, i ? " %d" : "%d", s->dims[i]);
  fputc(']', out);
}

void ast_print_stmt(FILE *out, const Stmt *s) {
  fprintf(out, "(%s", ast_stmt_keyword(s->kind));
  if (s->name) fprintf(out, " %s", s->name);
  switch (s->kind) {
  case ST_MODEL: break;
  case ST_INPUT: /* input x[3], or input x : int[64, 96] */
    if (s->type) fprintf(out, " %s", s->type);
    print_dims(out, s);
    break;
  case ST_LABEL:
    fprintf(out, " %s", s->type ? s->type : "?");
    print_dims(out, s);
    break;
  case ST_LAYER:
  case ST_LOSS:
    fputc(' ', out);
    ast_print_expr(out, s->call);
    break;
  case ST_DATA:
  case ST_TRAIN:
    for (int i = 0; i < s->nentries; i++) {
      fputc(' ', out);
      print_arg(out, &s->entries[i]);
    }
    break;
  }
  fputc(')', out);
}

void ast_print(FILE *out, const Program *p) {
  for (int i = 0; i < p->nstmts; i++) {
    ast_print_stmt(out, p->stmts[i]);
    fputc('\n', out);
  }
}
