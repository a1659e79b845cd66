#include "costroute/signals.h"

#include <string>
#include <vector>

#include "catch.h"

namespace {

costroute::Signals signals_of(std::string_view query, const costroute::Context& context = {}) {
  static const costroute::SignalExtractor extractor;
  costroute::TextScratch scratch;
  costroute::SignalExtractor::prepare(query, scratch);
  return extractor.extract(query, context, scratch);
}

using costroute::Domain;
using costroute::Script;
using costroute::TaskType;

}  // namespace

TEST_CASE("each task type is detected on a plain example") {
  CHECK(signals_of("Classify this message into spam or not spam: win a free phone").task_type ==
        TaskType::kClassification);
  CHECK(signals_of("What is the sentiment of this review: I loved it").task_type == TaskType::kSentiment);
  CHECK(signals_of("Extract all dates from the text below: met on 2021-03-04").task_type ==
        TaskType::kExtraction);
  CHECK(signals_of("Translate 'good morning' into German").task_type == TaskType::kTranslation);
  CHECK(signals_of("Summarize this article in two sentences: The council voted ...").task_type ==
        TaskType::kSummarization);
  CHECK(signals_of("Write a Python function to reverse a linked list").task_type == TaskType::kCode);
  CHECK(signals_of("```\nint main() { return 0; }\n```\nwhy does this crash").task_type == TaskType::kCode);
  CHECK(signals_of("Calculate the integral of x^2 from 0 to 3").task_type == TaskType::kMath);
  CHECK(signals_of("Compare the tradeoffs of microservices and monoliths").task_type ==
        TaskType::kReasoning);
  CHECK(signals_of("Write a poem about the sea").task_type == TaskType::kWriting);
  CHECK(signals_of("Who is the president of France?").task_type == TaskType::kQuestion);
  CHECK(signals_of("hello there").task_type == TaskType::kChat);
  CHECK(signals_of("Which is larger?\nA. 3\nB. 5\nC. 7\nD. 9\nAnswer:").task_type == TaskType::kQuestion);
}

TEST_CASE("domains are detected from their vocabulary, and one weak cue is not enough") {
  CHECK(signals_of("The patient has chronic kidney disease; what dose of insulin?").domain == Domain::kMedical);
  CHECK(signals_of("Is the landlord liable under the contract if the tenant sues?").domain == Domain::kLegal);
  CHECK(signals_of("How does inflation affect bond prices and interest rates?").domain == Domain::kFinance);
  CHECK(signals_of("What is the velocity of an electron in a magnetic field?").domain == Domain::kScience);
  CHECK(signals_of("How do I configure a linux server database?").domain == Domain::kTechnology);
  CHECK(signals_of("Tell me about the history of the state").domain == Domain::kGeneral);
}

TEST_CASE("reasoning keywords are counted") {
  CHECK(signals_of("Why? Explain and compare, step by step.").reasoning_hits == 4);
  CHECK(signals_of("What is 2+2").reasoning_hits == 0);
}

TEST_CASE("context hints override detection") {
  const auto s = signals_of("hello there", {.task_type = "summarization", .domain = "legal"});
  CHECK(s.task_type == TaskType::kSummarization);
  CHECK(s.domain == Domain::kLegal);
  const auto unknown = signals_of("hello there", {.task_type = "juggling"});
  CHECK(unknown.task_type == TaskType::kChat);
}

TEST_CASE("scripts, question marks and code are recognised") {
  CHECK(signals_of("Привет, как дела?").script == Script::kCyrillic);
  CHECK(signals_of("مرحبا بالعالم").script == Script::kArabic);
  CHECK(signals_of("東京はどこですか").script == Script::kKana);
  CHECK(signals_of("北京大学在哪里").script == Script::kHan);
  CHECK(signals_of("안녕하세요").script == Script::kHangul);
  CHECK(signals_of("plain words").script == Script::kLatin);
  CHECK(signals_of("is it?").has_question);
  CHECK(signals_of("何ですか？").has_question);
  CHECK(!signals_of("no question here").has_question);
  CHECK(signals_of("```\nx = 1\n```").has_code);
}

TEST_CASE("attachments set the capabilities a request needs") {
  CHECK(signals_of("look", {.images = 1}).needs == (costroute::kText | costroute::kVision));
  CHECK(signals_of("listen", {.audio_clips = 2}).needs == (costroute::kText | costroute::kAudio));
  CHECK(signals_of("text").needs == costroute::kText);
}

TEST_CASE("a short continuation in a conversation is a follow-up; outside one it is not") {
  const std::string_view turns[] = {"Write a bash script that backs up /home"};
  const costroute::Context conversation{.earlier_turns = turns};
  CHECK(signals_of("now fix the bug", conversation).is_follow_up);
  CHECK(signals_of("shorter please", conversation).is_follow_up);
  CHECK(!signals_of("now fix the bug").is_follow_up);
  CHECK(!signals_of("Write a detailed migration plan for moving our billing system from MySQL to "
                    "PostgreSQL with zero downtime and rollback", conversation).is_follow_up);
}

TEST_CASE("the token estimate is about 4 ASCII bytes per token plus one per other code point") {
  CHECK(signals_of("abcdefgh").tokens == 2);
  CHECK(signals_of("").tokens == 0);
  CHECK(signals_of("日本").tokens == 2);
}

TEST_CASE("complexity is the documented weighted sum, in [0, 1]") {
  const costroute::SignalExtractor extractor;
  costroute::Signals s;
  s.tokens = 2000;
  s.reasoning_hits = 3;
  s.task_type = TaskType::kReasoning;
  s.domain = Domain::kMedical;
  s.has_code = true;
  CHECK(extractor.complexity(s) == Approx(0.30 * 1 + 0.25 * 1 + 0.25 * 0.8 + 0.10 * 0.9 + 0.10 * 1));
  s = costroute::Signals{};
  CHECK(extractor.complexity(s) == Approx(0.25 * 0.2 + 0.10 * 0.2));
  const auto easy = signals_of("hi");
  const auto hard = signals_of("Prove, step by step, why the algorithm's worst case is quadratic; "
                               "compare it with merge sort and justify each claim.");
  CHECK(easy.complexity < hard.complexity);
}

TEST_CASE("any bytes give signals") {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  const auto s = signals_of(bytes + "\xce\xa3\xff" + bytes);
  CHECK(s.complexity >= 0.0);
  CHECK(s.complexity <= 1.0);
}

TEST_CASE("the text shape counts every byte the same at any length and alignment") {
  // Pieces whose counts are known, appended one by one up to 3 blocks of
  // 16 bytes, starting at every piece, so that every piece lands in the
  // last, partial block as well as in whole ones.
  struct Piece {
    std::string text;
    uint32_t question_marks, code_symbols, digits, math, latin, other, options;
  };
  const std::vector<Piece> pieces = {
      {"ab", 0, 0, 0, 0, 2, 0, 0},     {"?", 1, 0, 0, 0, 0, 0, 0},      {"{;}", 0, 3, 0, 0, 0, 0, 0},
      {"<>", 0, 2, 0, 0, 0, 0, 0},     {"42", 0, 0, 2, 0, 0, 0, 0},     {"+*/^=%", 0, 0, 0, 6, 0, 0, 0},
      {"\nB) ", 0, 0, 0, 0, 1, 0, 1},  {"\xC3\xA9", 0, 0, 0, 0, 1, 1, 0},  // é
      {"\xEF\xBC\x9F", 1, 0, 0, 0, 0, 1, 0},                                 // fullwidth ?
      {"\xC3\x97", 0, 0, 0, 1, 0, 1, 0},                                     // ×
      {" ", 0, 0, 0, 0, 0, 0, 0},      {"Z", 0, 0, 0, 0, 1, 0, 0}};
  for (size_t offset = 0; offset < pieces.size(); ++offset) {
    std::string text;
    Piece want{"", 0, 0, 0, 0, 0, 0, 0};
    uint32_t ascii = 0;
    for (size_t k = offset; text.size() < 48; ++k) {
      const Piece& p = pieces[k % pieces.size()];
      text += p.text;
      want.question_marks += p.question_marks;
      want.code_symbols += p.code_symbols;
      want.digits += p.digits;
      want.math += p.math;
      want.latin += p.latin;
      want.other += p.other;
      want.options += p.options;
      ascii += p.other == 0 ? static_cast<uint32_t>(p.text.size()) : 0;
      const costroute::internal::TextShape got = costroute::internal::measure_shape(text);
      INFO("text of " << text.size() << " bytes from piece " << offset);
      CHECK(got.question_marks == want.question_marks);
      CHECK(got.code_symbols == want.code_symbols);
      CHECK(got.digits == want.digits);
      CHECK(got.math_operators == want.math);
      CHECK(got.letters[costroute::internal::kScriptLatin] == want.latin);
      CHECK(got.other_code_points == want.other);
      CHECK(got.ascii_bytes == ascii);
      CHECK(got.answer_options == want.options);
    }
  }
  // In the last, partial block: a newline in the last byte, or followed by
  // one letter, opens no option; one followed by "B)" does. Fences count
  // wherever they end.
  CHECK(costroute::internal::measure_shape(std::string(30, 'x') + "\n").answer_options == 0);
  CHECK(costroute::internal::measure_shape(std::string(30, 'x') + "\nB").answer_options == 0);
  CHECK(costroute::internal::measure_shape(std::string(30, 'x') + "\nB)").answer_options == 1);
  CHECK(costroute::internal::measure_shape(std::string(14, 'x') + "```").code_fences == 1);
  // Past 255 blocks the lane counters are flushed; then a partial block.
  const std::string long_text = std::string(255 * 16 + 7, '7') + "?";
  const costroute::internal::TextShape shape = costroute::internal::measure_shape(long_text);
  CHECK(shape.digits == 255 * 16 + 7);
  CHECK(shape.question_marks == 1);
  CHECK(shape.ascii_bytes == long_text.size());
}
