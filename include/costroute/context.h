// costroute/context.h: what the host knows about a request besides its text.
//
// Every field is optional. Views (std::string_view, std::span) are borrowed
// for the duration of one route() call and never stored; the host keeps
// what they view alive until route() returns. A view of a temporary dies
// at the end of the statement that makes it:
//   Context c{.user_tier = std::string("premium")};  // dangles: do not
//
// **Example**:
//
//   costroute::Context context{.user_id = "u-42", .user_tier = "premium",
//                              .task_type = "summarization"};
//   costroute::Decision d = router.route(query, context);
#ifndef COSTROUTE_CONTEXT_H_
#define COSTROUTE_CONTEXT_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace costroute {

// A free-form key/value label, such as {"feature", "autocomplete"}.
struct Tag {
  std::string_view key = {};
  std::string_view value = {};
};

struct Context {
  std::string_view user_id = {};
  std::string_view session_id = {};
  // "free", "premium", ... as the host names them; rules match these names.
  std::string_view user_tier = {};
  // A hint that overrides detection: "classification", "sentiment",
  // "extraction", "translation", "summarization", "code", "math",
  // "reasoning", "writing", "question", "chat". Any other text (another
  // case too) is ignored: detection decides. (`costroute route` refuses it
  // in a request file.)
  std::string_view task_type = {};
  // A hint that overrides detection: "medical", "legal", "finance",
  // "science", "technology", "general"; any other text is ignored.
  std::string_view domain = {};
  // Attachments sent with the query.
  int images = 0;
  int audio_clips = 0;
  // A model the user asked for by name; honoured by a "requested" rule when
  // the catalog has it.
  std::string_view requested_model = {};
  // When the request was made, in milliseconds since the Unix epoch; the
  // router reads the clock when absent.
  std::optional<int64_t> request_time_ms = {};
  // USD the user or tenant may still spend.
  std::optional<double> remaining_budget_usd = {};
  // Expected answer length in tokens, for cost estimates; the router
  // config's default when absent.
  std::optional<int64_t> expected_output_tokens = {};
  std::string_view trace_id = {};
  std::span<const Tag> tags = {};
  // Conversations: the earlier turns of the session, oldest first, and the
  // model that answered the last one. A follow-up ("now fix the bug",
  // "shorter please") stays on that model unless it clearly needs a
  // stronger one.
  std::span<const std::string_view> earlier_turns = {};
  std::string_view session_model = {};
  // Fill Decision::trace with what every policy asked said (allocates).
  bool explain = false;

  std::string_view tag(std::string_view key) const {
    for (const Tag& t : tags) {
      if (t.key == key) return t.value;
    }
    return {};
  }
};

}  // namespace costroute

#endif  // COSTROUTE_CONTEXT_H_
