// costroute: cost-aware LLM routing, in process, in about a microsecond.
//
// This header brings in the whole public API. Parts, one header each:
//
//   costroute/text.h     tokenizer and TF-IDF vectorizer (scikit-learn exact)
//   costroute/model.h    the learned router: p(small model is sufficient)
//   costroute/catalog.h  models with tiers, prices and capabilities
//   costroute/context.h  what the host knows about a request
//   costroute/signals.h  per-request features: task, domain, complexity, ...
//   costroute/policy.h   policies that decide or abstain, and their tree
//   costroute/router.h   Router::route(query, context) -> Decision
//   costroute/train.h    training a model from labelled queries
//   costroute/eval.h     cost-quality curves, savings, APGR, CV, tuning
//   costroute/io.h       model files, router configs and JSONL input
//
// All but train.h, eval.h and io.h are header-only (costroute::core); those
// need the compiled library (costroute::costroute).
#ifndef COSTROUTE_COSTROUTE_H_
#define COSTROUTE_COSTROUTE_H_

#include "costroute/catalog.h"
#include "costroute/context.h"
#include "costroute/eval.h"
#include "costroute/io.h"
#include "costroute/model.h"
#include "costroute/policy.h"
#include "costroute/router.h"
#include "costroute/signals.h"
#include "costroute/text.h"
#include "costroute/train.h"
#include "costroute/version.h"

#endif  // COSTROUTE_COSTROUTE_H_
