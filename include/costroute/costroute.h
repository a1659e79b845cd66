// costroute: cost-aware LLM routing, in process, in about a microsecond.
//
// This header brings in the whole public API. Parts, one header each:
//
//   costroute/text.h    tokenizer and TF-IDF vectorizer (scikit-learn exact)
//   costroute/model.h   the learned router: p(small model is sufficient)
//   costroute/train.h   training a model from labelled queries
//   costroute/io.h      model files and JSONL input
//
// text.h and model.h are header-only (costroute::core); train.h and io.h
// need the compiled library (costroute::costroute).
#ifndef COSTROUTE_COSTROUTE_H_
#define COSTROUTE_COSTROUTE_H_

#include "costroute/io.h"
#include "costroute/model.h"
#include "costroute/text.h"
#include "costroute/train.h"
#include "costroute/version.h"

#endif  // COSTROUTE_COSTROUTE_H_
