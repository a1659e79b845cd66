#include "costroute/text.h"

#include <map>
#include <string>
#include <vector>

#include "catch.h"
#include "test_util.h"

namespace {

using costroute::TokenBuffer;
using Tokens = std::vector<std::string>;

Tokens tokens_of(std::string_view text, bool lowercase = true) {
  TokenBuffer buffer;
  costroute::tokenize(text, lowercase, buffer);
  return buffer.to_vector();
}

costroute::Vectorizer make_vectorizer(costroute::VectorizerOptions options,
                                      std::vector<std::string> vocabulary,
                                      std::vector<double> idf) {
  auto v = costroute::Vectorizer::create(options, std::move(vocabulary), std::move(idf));
  REQUIRE(v.ok());
  return *std::move(v);
}

// Heap allocations of 100 transforms of `query` after a first one has
// grown the scratch.
size_t allocations_once_warm(const costroute::Vectorizer& v, const std::string& query) {
  costroute::TextScratch scratch;
  v.transform(query, scratch);
  costroute::testing::AllocationCounter counter;
  for (int i = 0; i < 100; ++i) v.transform(query, scratch);
  return counter.count();
}

}  // namespace

// Expected lists were produced by scikit-learn 1.2.1 (Python 3.11,
// Unicode 14): TfidfVectorizer().build_analyzer()(text).
TEST_CASE("tokens of tricky strings equal scikit-learn's") {
  CHECK(tokens_of("caf\u0065\u0301 caf\u0065\u0301s") == Tokens{"cafe", "cafe"});
  CHECK(tokens_of("\u0130stanbul \u0130\u0130") == Tokens{"stanbul"});
  CHECK(tokens_of("\u039F\u0394\u039F\u03A3 \u039F\u0394\u039F\u03A3. \u03A3\u0391\u03A3") ==
        Tokens{"\u03bf\u03b4\u03bf\u03c2", "\u03bf\u03b4\u03bf\u03c2", "\u03c3\u03b1\u03c2"});
  CHECK(tokens_of("\u03A3 \u0391\u03A3 \u0391\u03A3'\u0392") ==
        Tokens{"\u03b1\u03c2", "\u03b1\u03c3"});
  CHECK(tokens_of("\u5317\u4eac\u5927\u5b66 \u4e1c\u4eac") ==
        Tokens{"\u5317\u4eac\u5927\u5b66", "\u4e1c\u4eac"});
  CHECK(tokens_of("\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645") ==
        Tokens{"\u0645\u0631\u062d\u0628\u0627", "\u0628\u0627\u0644\u0639\u0627\u0644\u0645"});
  CHECK(tokens_of("hi \U0001F600 emoji\U0001F600s") == Tokens{"hi", "emoji"});
  CHECK(tokens_of("don't won't") == Tokens{"don", "won"});
  CHECK(tokens_of("pi is 3.14 and 1,000") == Tokens{"pi", "is", "14", "and", "000"});
  CHECK(tokens_of("_foo_ __ a_b") == Tokens{"_foo_", "__", "a_b"});
  CHECK(tokens_of("see https://example.com/a_b?x=1&y=22") ==
        Tokens{"see", "https", "example", "com", "a_b", "22"});
  CHECK(tokens_of("x\u200dy ab\u00adcd") == Tokens{"ab", "cd"});
  CHECK(tokens_of("\u01c5emal \ufb01ne \u216b \u2473") == Tokens{"\u01c6emal", "\ufb01ne"});
}

TEST_CASE("lowercase can be turned off") {
  CHECK(tokens_of("Hello WORLD \u0130x", false) == Tokens{"Hello", "WORLD", "\u0130x"});
}

TEST_CASE("bytes that are not UTF-8 separate tokens and never crash") {
  CHECK(tokens_of("ab\xff" "cd") == Tokens{"ab", "cd"});
  CHECK(tokens_of("ab\xc3") == Tokens{"ab"});                    // truncated sequence
  CHECK(tokens_of("ab\xc0\xaf" "cd") == Tokens{"ab", "cd"});     // overlong '/'
  CHECK(tokens_of("ab\xed\xa0\x80" "cd") == Tokens{"ab", "cd"});  // surrogate
  CHECK(tokens_of("ab\xf4\x90\x80\x80" "cd") == Tokens{"ab", "cd"});  // > U+10FFFF
  CHECK(tokens_of("\xce\xa3\xff") == Tokens{});  // sigma before a bad byte
  CHECK(tokens_of(std::string_view("a\0b cd", 6)) == Tokens{"cd"});
  CHECK(tokens_of("") == Tokens{});
}

TEST_CASE("a 1 MB query is tokenized whole") {
  std::string big;
  while (big.size() < (1 << 20)) big += "lorem ipsum dolor \u00e9t\u00e9 ";
  TokenBuffer buffer;
  costroute::tokenize(big, true, buffer);
  CHECK(buffer.size() == big.size() / std::string("lorem ipsum dolor \u00e9t\u00e9 ").size() * 4);
  CHECK(buffer[3] == "\u00e9t\u00e9");
}

TEST_CASE("vectorizer rejects inconsistent parts, naming the field") {
  costroute::VectorizerOptions options;
  auto wrong_idf = costroute::Vectorizer::create(options, {"ab", "cd"}, {1.0});
  REQUIRE(!wrong_idf.ok());
  CHECK(wrong_idf.status().message() == "idf: expected 2 values, got 1");
  auto nan_idf = costroute::Vectorizer::create(options, {"ab", "cd"}, {1.0, NAN});
  CHECK(nan_idf.status().message() == "idf[1]: not a finite number");
  CHECK(costroute::Vectorizer::create(options, {"ab", "cd"}, {1.0, 1e308}).status().message() ==
        "idf[1]: beyond 1e100 in size");
  CHECK(costroute::Vectorizer::create(options, {"ab", "c\xff"}, {1.0, 1.0}).status().message() ==
        "vocabulary[1]: not valid UTF-8");
  costroute::VectorizerOptions nan_df;
  nan_df.min_df = costroute::DocumentFrequency::fraction(NAN);
  CHECK(costroute::Vectorizer::create(nan_df, {"ab"}, {1.0}).status().message() ==
        "min_df: expected a fraction in [0, 1]");
  auto duplicate = costroute::Vectorizer::create(options, {"ab", "cd", "ab"}, {1, 1, 1});
  CHECK(duplicate.status().message() ==
        "vocabulary[2]: duplicate term \"ab\" (also at vocabulary[0])");
  // Values and terms no trainer writes, which would silently distort scores.
  CHECK(costroute::Vectorizer::create(options, {"ab", "cd"}, {1.0, -1.0}).status().message() ==
        "idf[1]: expected a positive number, got -1");
  CHECK(costroute::Vectorizer::create(options, {"ab", "cd"}, {1.0, 0.0}).status().message() ==
        "idf[1]: expected a positive number, got 0");
  CHECK(costroute::Vectorizer::create(options, {"ab", ""}, {1.0, 1.0}).status().message() ==
        "vocabulary[1]: \"\" is not a term of 1-2 words (ngram_range)");
  CHECK(costroute::Vectorizer::create(options, {"ab", "ab cd ef"}, {1.0, 1.0}).status().message() ==
        "vocabulary[1]: \"ab cd ef\" is not a term of 1-2 words (ngram_range)");
  costroute::VectorizerOptions few = options;
  few.max_features = 1;
  CHECK(costroute::Vectorizer::create(few, {"ab", "cd"}, {1.0, 1.0}).status().message() ==
        "vocabulary: 2 terms, more than max_features (1)");
  costroute::VectorizerOptions chars = options;
  chars.analyzer = costroute::Analyzer::kChar;
  chars.ngram_min = 2;
  chars.ngram_max = 3;
  CHECK(costroute::Vectorizer::create(chars, {"ab", "\u00e9t\u00e9"}, {1.0, 1.0}).ok());  // 3 characters, 5 bytes
  CHECK(costroute::Vectorizer::create(chars, {"ab", "abcd"}, {1.0, 1.0}).status().message() ==
        "vocabulary[1]: \"abcd\" is not a term of 2-3 characters (ngram_range)");
  CHECK(costroute::Vectorizer::create(chars, {"ab", "a"}, {1.0, 1.0}).status().message() ==
        "vocabulary[1]: \"a\" is not a term of 2-3 characters (ngram_range)");
  chars.analyzer = costroute::Analyzer::kCharWb;  // keeps a short word whole
  CHECK(costroute::Vectorizer::create(chars, {"ab", "a"}, {1.0, 1.0}).ok());
  costroute::VectorizerOptions sublinear = options;
  sublinear.sublinear_tf = true;
  CHECK(costroute::Vectorizer::create(sublinear, {"ab"}, {1.0}, {0.0, std::log(2.0), std::log(3.0)}).ok());
  CHECK(costroute::Vectorizer::create(sublinear, {"ab"}, {1.0}, {0.0, 1.0}).status().message().find(
            "sublinear_tf_log[1]: expected ln(2) = 0.693147") == 0);
  options.ngram_min = 3;
  auto bad_range = costroute::Vectorizer::create(options, {"ab"}, {1.0});
  CHECK(!bad_range.ok());
  CHECK(bad_range.status().message().find("ngram_range") == 0);
}

TEST_CASE("transform counts unigrams and bigrams and weights them as TF-IDF with l2 norm") {
  // Columns: 0 "ab", 1 "ab cd", 2 "cd", 3 "ef".
  auto v = make_vectorizer({}, {"ab", "ab cd", "cd", "ef"}, {1.0, 2.0, 1.5, 3.0});
  costroute::TextScratch scratch;
  const costroute::SparseRow& row = v.transform("AB cd, ab! zz", scratch);
  // Counts: ab 2, "ab cd" 1, cd 1, "cd ab" and zz unknown. Weighted: 2, 2, 1.5.
  REQUIRE(row.columns == std::vector<int32_t>{2, 1, 0});
  const double norm = std::sqrt(1.5 * 1.5 + 2.0 * 2.0 + 2.0 * 2.0);
  CHECK(row.values[0] == 1.5 / norm);
  CHECK(row.values[1] == 2.0 / norm);
  CHECK(row.values[2] == 2.0 / norm);
}

TEST_CASE("bigrams join tokens across punctuation and dropped one-letter words") {
  auto v = make_vectorizer({}, {"ab cd"}, {1.0});
  costroute::TextScratch scratch;
  CHECK(v.transform("ab. a cd", scratch).size() == 1);
  CHECK(v.transform("ab cdx", scratch).size() == 0);
}

TEST_CASE("bigrams count the same looked up by their words' columns or by their bytes") {
  // When every word of every bigram is a unigram term, bigrams are looked up
  // by their two words' columns (ColumnPairTable); one bigram with a word
  // that is not a term sends every lookup through the bytes (TermTable).
  // Trigrams go through the bytes either way.
  const std::vector<std::string> words = {"ab", "cd", "ef", "a_long_word", "\u00e9t\u00e9"};
  std::vector<std::string> by_columns = words;
  for (const std::string& x : words) {
    for (const std::string& y : words) {
      if ((x.size() + y.size()) % 3 != 0) by_columns.push_back(x + " " + y);
      if ((x.size() + y.size()) % 4 == 0) by_columns.push_back(x + " " + y + " ab");
    }
  }
  std::vector<std::string> by_bytes = by_columns;
  by_bytes.push_back("zz yy");
  costroute::VectorizerOptions trigrams;
  trigrams.ngram_max = 3;
  auto fast = make_vectorizer(trigrams, by_columns, std::vector<double>(by_columns.size(), 1.0));
  auto slow = make_vectorizer(trigrams, by_bytes, std::vector<double>(by_bytes.size(), 1.0));
  costroute::TextScratch fast_scratch, slow_scratch;
  uint64_t state = 7;
  for (int query = 0; query < 500; ++query) {
    std::string text;
    for (int k = 0; k < 30; ++k) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      const size_t pick = (state >> 33) % (words.size() + 2);
      text += pick < words.size() ? words[pick] : pick == words.size() ? "zz" : "yy";
      text += (state >> 20) % 4 == 0 ? ". " : " ";
    }
    const costroute::SparseRow& a = fast.count(text, fast_scratch);
    const costroute::SparseRow& b = slow.count(text, slow_scratch);
    std::map<std::string, double> counts_a, counts_b;
    for (size_t k = 0; k < a.size(); ++k) counts_a[by_columns[a.columns[k]]] = a.values[k];
    for (size_t k = 0; k < b.size(); ++k) {
      if (by_bytes[b.columns[k]] != "zz yy") counts_b[by_bytes[b.columns[k]]] = b.values[k];
    }
    REQUIRE(counts_a == counts_b);
  }
  // And the columns path does find bigrams.
  CHECK(fast.count("a_long_word \u00e9t\u00e9 ab", fast_scratch).size() > 3);
}

TEST_CASE("sublinear tf, binary, l1 and no idf follow scikit-learn's definitions") {
  costroute::TextScratch scratch;
  costroute::VectorizerOptions options;
  options.ngram_max = 1;
  options.sublinear_tf = true;
  options.norm = costroute::Norm::kNone;
  auto sub = make_vectorizer(options, {"ab", "cd"}, {2.0, 3.0});
  const auto& a = sub.transform("ab ab ab cd", scratch);
  CHECK(a.values == std::vector<double>{3.0, (std::log(3.0) + 1.0) * 2.0});

  options.sublinear_tf = false;
  options.binary = true;
  options.norm = costroute::Norm::kL1;
  auto bin = make_vectorizer(options, {"ab", "cd"}, {2.0, 3.0});
  const auto& b = bin.transform("ab ab ab cd", scratch);
  CHECK(b.values == std::vector<double>{3.0 / 5.0, 2.0 / 5.0});

  options.binary = false;
  options.use_idf = false;
  options.norm = costroute::Norm::kNone;
  auto raw = make_vectorizer(options, {"ab", "cd"}, {});
  // Without idf scikit-learn keeps columns ascending.
  const auto& r = raw.transform("ab ab ab cd", scratch);
  CHECK(r.columns == std::vector<int32_t>{0, 1});
  CHECK(r.values == std::vector<double>{3.0, 1.0});
}

TEST_CASE("find_term returns the column of a term or -1") {
  auto v = make_vectorizer({}, {"ab", "ab cd", "\u00e9t\u00e9"}, {1, 1, 1});
  CHECK(v.find_term("ab cd") == 1);
  CHECK(v.find_term("\u00e9t\u00e9") == 2);
  CHECK(v.find_term("cd") == -1);
  CHECK(v.find_term("ab  cd") == -1);
}

TEST_CASE("transform makes no heap allocation once its scratch has grown") {
  auto v = make_vectorizer({}, {"ab", "ab cd", "cd", "ef"}, {1.0, 2.0, 1.5, 3.0});
  CHECK(allocations_once_warm(v, "ab cd ef gh \u00e9t\u00e9 ab cd ab cd EF") == 0);
}

TEST_CASE("a shorter query with more distinct terms than a longer one allocates nothing") {
  // Words "ab", "ac", ..., "ts" (400 terms) and their character 2-grams.
  std::vector<std::string> words, grams;
  for (char x = 'a'; x <= 't'; ++x) {
    grams.push_back(std::string(" ") + x);
    grams.push_back(std::string(1, x) + " ");
    for (char y = 'a'; y <= 't'; ++y) words.push_back(std::string{x, y});
  }
  grams.insert(grams.end(), words.begin(), words.end());
  std::string many, long_and_plain;
  for (const std::string& w : words) many += w + " ";
  for (int i = 0; i < 3000; ++i) long_and_plain += "ab ";
  costroute::VectorizerOptions char_wb;
  char_wb.analyzer = costroute::Analyzer::kCharWb;
  char_wb.ngram_min = char_wb.ngram_max = 2;
  for (const auto& [options, terms] : {std::pair{costroute::VectorizerOptions{}, words}, std::pair{char_wb, grams}}) {
    auto v = make_vectorizer(options, terms, std::vector<double>(terms.size(), 1.0));
    costroute::TextScratch scratch;
    v.transform(long_and_plain, scratch);  // grows every buffer but the row, which holds one term
    costroute::testing::AllocationCounter counter;
    CHECK(v.transform(many, scratch).size() >= 400);
    CHECK(counter.count() == 0);
  }
}

TEST_CASE("tokens do not depend on where 16-byte blocks fall") {
  // The tokenizer classifies ASCII 16 bytes at a time and falls back to one
  // code point at a time near non-ASCII text; shifting the text across
  // block boundaries must not change its tokens.
  const std::vector<std::string> texts = {
      "The QUICK brown_fox jumps over 12 lazy dogs; don't stop. A b cd",
      "\u039F\u0394\u039F\u03A3 abcdefghijklmnopqrstu \u03A3\u0391\u03A3 x'\u03A3 end",
      "averyveryverylongwordthatspansseveralblocksofsixteenbytes \u00e9t\u00e9 z",
      "abc\xff" "defghijklmnopqrstuvwxyz \u0130stanbul ab\u0301cd ok",
      "AAAAAAAAAAAAAAA\u03A3 BBBBBBBBBBBBBBB.\u03A3 CCCCCCCCCCCCCCC'\u03A3b"};
  for (const std::string& text : texts) {
    const Tokens reference = tokens_of(text);
    for (int shift = 1; shift <= 17; ++shift) {
      CHECK(tokens_of(std::string(shift, ' ') + text) == reference);
      CHECK(tokens_of(std::string(shift, '.') + text) == reference);
    }
  }
  CHECK(tokens_of(texts[1]) == Tokens{"\u03bf\u03b4\u03bf\u03c2", "abcdefghijklmnopqrstu",
                                      "\u03c3\u03b1\u03c2", "end"});
}

namespace {

// Counts of the character n-grams of `text` over `vocabulary`.
std::map<std::string, double> char_counts(costroute::Analyzer analyzer, int n_min, int n_max,
                                          std::vector<std::string> vocabulary, std::string_view text,
                                          bool lowercase = true) {
  costroute::VectorizerOptions o;
  o.analyzer = analyzer;
  o.ngram_min = n_min;
  o.ngram_max = n_max;
  o.use_idf = false;
  o.norm = costroute::Norm::kNone;
  o.lowercase = lowercase;
  auto v = make_vectorizer(o, std::move(vocabulary), {});
  costroute::TextScratch scratch;
  const costroute::SparseRow& row = v.count(text, scratch);
  std::map<std::string, double> out;
  for (size_t k = 0; k < row.size(); ++k) out[v.vocabulary()[row.columns[k]]] = row.values[k];
  return out;
}

}  // namespace

// Expected counts: CountVectorizer(analyzer=..., ngram_range=...)
// .build_analyzer()(text) from scikit-learn 1.2.1.
TEST_CASE("character n-grams are cut as scikit-learn cuts them") {
  using costroute::Analyzer;
  using Counts = std::map<std::string, double>;
  // char_wb pads words with spaces; the lone " " of one-letter windows
  // comes from both ends of each word.
  CHECK(char_counts(Analyzer::kCharWb, 1, 3,
                    {" ", " a", " ab", " c", " c ", "a", "ab", "ab ", "b", "b ", "c", "c ", "zz"}, "Ab c") ==
        Counts{{" ", 4}, {" a", 1}, {" ab", 1}, {" c", 1}, {" c ", 1}, {"a", 1}, {"ab", 1}, {"ab ", 1},
               {"b", 1}, {"b ", 1}, {"c", 1}, {"c ", 1}});
  // char keeps one whitespace character as it is and makes a run of them
  // one space.
  CHECK(char_counts(Analyzer::kChar, 2, 3, {"\nc", " b", " b\n", "a ", "a b", "b\n", "b\nc", "  "},
                    "a  b\nc") ==
        Counts{{"\nc", 1}, {" b", 1}, {" b\n", 1}, {"a ", 1}, {"a b", 1}, {"b\n", 1}, {"b\nc", 1}});
  // Final sigma, and the dotted capital I that lowers to two code points.
  CHECK(char_counts(Analyzer::kCharWb, 2, 2,
                    {" i", " \u03b1", "i\u0307", "\u0307 ", "\u03b1\u03c2", "\u03c2 ", "\u03b1\u03c3"},
                    "\u0391\u03a3 \u0130") ==
        Counts{{" i", 1}, {" \u03b1", 1}, {"i\u0307", 1}, {"\u0307 ", 1}, {"\u03b1\u03c2", 1}, {"\u03c2 ", 1}});
  // A word no longer than n is taken whole, once, and longer n are skipped.
  CHECK(char_counts(Analyzer::kCharWb, 3, 5, {" a ", " ab", "ab ", " ab "}, "a ab") ==
        Counts{{" a ", 1}, {" ab", 1}, {"ab ", 1}, {" ab ", 1}});
  // Bytes that are not UTF-8 read as U+FFFD, as Python's errors="replace".
  CHECK(char_counts(Analyzer::kChar, 1, 1, {"a", "b", "\uFFFD"}, "a\xff" "b\xc3") ==
        Counts{{"a", 1}, {"b", 1}, {"\uFFFD", 2}});
  CHECK(char_counts(Analyzer::kChar, 1, 2, {"A", "Ab", "b"}, "Ab", /*lowercase=*/false) ==
        Counts{{"A", 1}, {"Ab", 1}, {"b", 1}});
  // Empty and whitespace-only text.
  CHECK(char_counts(Analyzer::kCharWb, 1, 2, {" ", "a"}, " \t\u3000").empty());
  CHECK(char_counts(Analyzer::kChar, 1, 1, {" ", "a"}, "").empty());
  CHECK(char_counts(Analyzer::kChar, 1, 1, {" ", "a"}, " \t\u3000") == Counts{{" ", 1}});
}

TEST_CASE("character n-gram vectorizers find terms and allocate nothing once warm") {
  costroute::VectorizerOptions o;
  o.analyzer = costroute::Analyzer::kCharWb;
  o.ngram_min = 2;
  o.ngram_max = 4;
  auto v = make_vectorizer(o, {" ab", "ab ", " a b", "\u00e9t"}, {1.0, 2.0, 1.5, 3.0});
  CHECK(v.find_term("ab ") == 1);
  CHECK(v.find_term(" a b") == 2);
  CHECK(v.find_term("ab") == -1);
  CHECK_FALSE(v.leaves_word_tokens());
  CHECK(allocations_once_warm(v, "ab cd \u00e9t\u00e9 AB \xff ab") == 0);
}
