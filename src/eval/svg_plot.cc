// The cost-quality picture of an Evaluation, as a self-contained SVG.
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "costroute/eval.h"
#include "costroute/internal/unicode.h"

namespace costroute {
namespace {

constexpr double kWidth = 720, kHeight = 480;
constexpr double kLeft = 80, kRight = 190, kTop = 50, kBottom = 60;

// Text as XML character data: markup escaped, control characters (which
// XML forbids) as spaces, and invalid UTF-8 and the two characters XML
// forbids beyond them (U+FFFE, U+FFFF) as U+FFFD.
std::string escape(const std::string& text) {
  std::string out;
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  for (size_t i = 0; i < text.size();) {
    const size_t start = i;
    const int32_t cp = internal::decode_utf8(bytes, text.size(), i);
    switch (cp) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case internal::kInvalidUtf8:
      case 0xFFFE:
      case 0xFFFF: out += "\xEF\xBF\xBD"; break;
      default:
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
          out.push_back(' ');
        } else {
          out.append(text, start, i - start);
        }
    }
  }
  return out;
}

}  // namespace

std::string cost_quality_svg(const Evaluation& e, const std::string& title) {
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  // y range: all curves, padded.
  double y_min = std::min(e.quality_small, e.quality_large), y_max = std::max(e.quality_small, e.quality_large);
  for (const RoutingMetrics* m : {&e.router, &e.oracle}) {
    for (const CurvePoint& p : m->curve) y_min = std::min(y_min, p.quality), y_max = std::max(y_max, p.quality);
  }
  const double pad = std::max(1e-9, (y_max - y_min) * 0.08);
  y_min -= pad;
  y_max += pad;
  auto x_of = [&](double cost) { return kLeft + plot_w * (e.cost_large > 0 ? cost / e.cost_large : 0.0); };
  auto y_of = [&](double q) { return kTop + plot_h * (1.0 - (q - y_min) / (y_max - y_min)); };
  auto polyline = [&](const std::vector<CurvePoint>& curve, const char* color, double width, const char* dash) {
    if (curve.empty()) return std::string();  // an evaluation of no examples
    std::string points;
    // At most ~600 vertices: long oracle curves are thinned evenly.
    const size_t step = std::max<size_t>(1, curve.size() / 600);
    for (size_t i = 0; i < curve.size(); i += step) {
      absl::StrAppend(&points, absl::StrFormat("%.1f,%.1f ", x_of(curve[i].cost), y_of(curve[i].quality)));
    }
    const CurvePoint& last = curve.back();
    absl::StrAppend(&points, absl::StrFormat("%.1f,%.1f", x_of(last.cost), y_of(last.quality)));
    return absl::StrFormat(
        "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\"%s points=\"%s\"/>\n", color, width,
        dash[0] ? absl::StrCat(" stroke-dasharray=\"", dash, "\"") : "", points);
  };

  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
      kWidth, kHeight, kWidth, kHeight);
  absl::StrAppend(&svg, absl::StrFormat(
                            "<text x=\"%.0f\" y=\"24\" font-size=\"15\" font-weight=\"bold\">%s</text>\n", kLeft,
                            escape(title)));
  // Band of allowed quality drop below always-strong, cut at the plot's
  // bottom edge (a large drop reaches below every curve).
  const double band_top = y_of(e.quality_large);
  const double band_bottom =
      std::min(kTop + plot_h, y_of(e.quality_large - e.max_quality_drop * std::fabs(e.quality_large)));
  absl::StrAppend(&svg, absl::StrFormat(
                            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#2ca02c\" "
                            "fill-opacity=\"0.12\"/>\n",
                            kLeft, band_top, plot_w, std::max(0.0, band_bottom - band_top)));
  // Axes, ticks and grid.
  for (int i = 0; i <= 5; ++i) {
    const double fx = i / 5.0;
    const double x = kLeft + plot_w * fx;
    absl::StrAppend(&svg, absl::StrFormat(
                              "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n"
                              "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f%%</text>\n",
                              x, kTop, x, kTop + plot_h, x, kTop + plot_h + 18, fx * 100));
    const double q = y_min + (y_max - y_min) * fx;
    const double y = y_of(q);
    absl::StrAppend(&svg, absl::StrFormat(
                              "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n"
                              "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n",
                              kLeft, y, kLeft + plot_w, y, kLeft - 6, y + 4, q));
  }
  absl::StrAppend(&svg, absl::StrFormat(
                            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#333\"/>\n"
                            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">cost, relative to always using the "
                            "strong model</text>\n"
                            "<text transform=\"translate(%.1f,%.1f) rotate(-90)\" text-anchor=\"middle\">mean "
                            "quality</text>\n",
                            kLeft, kTop, plot_w, plot_h, kLeft + plot_w / 2, kHeight - 18, 22.0, kTop + plot_h / 2));
  absl::StrAppend(&svg, polyline(e.random.curve, "#7f7f7f", 1.5, "6,4"));
  absl::StrAppend(&svg, polyline(e.oracle.curve, "#2ca02c", 1.5, ""));
  absl::StrAppend(&svg, polyline(e.router.curve, "#1f77b4", 2.2, ""));
  // The operating point at the maximum drop.
  const double op_cost = e.cost_large * (1.0 - e.router.savings_at_max_drop);
  const double op_quality = e.quality_large - e.router.quality_drop * std::fabs(e.quality_large);
  absl::StrAppend(&svg, absl::StrFormat(
                            "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"#d62728\"/>\n", x_of(op_cost),
                            y_of(op_quality)));
  // Legend.
  const double lx = kLeft + plot_w + 14;
  struct Entry {
    const char* color;
    std::string label;
  };
  const Entry entries[] = {
      {"#1f77b4", absl::StrFormat("router (saves %.1f%%)", 100 * e.router.savings_at_max_drop)},
      {"#2ca02c", absl::StrFormat("oracle (saves %.1f%%)", 100 * e.oracle.savings_at_max_drop)},
      {"#7f7f7f", absl::StrFormat("random (saves %.1f%%)", 100 * e.random.savings_at_max_drop)},
      {"#d62728", "operating point"},
      {"#c7e6c7", absl::StrFormat("%g%% quality band", 100 * e.max_quality_drop)},
  };
  double ly = kTop + 10;
  for (const Entry& entry : entries) {
    absl::StrAppend(&svg, absl::StrFormat(
                              "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"4\" fill=\"%s\"/>\n"
                              "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                              lx, ly - 4, entry.color, lx + 20, ly + 1, escape(entry.label)));
    ly += 22;
  }
  absl::StrAppend(&svg, absl::StrFormat("<text x=\"%.1f\" y=\"%.1f\" fill=\"#555\">n = %d prompts</text>\n", lx,
                                        ly + 10, e.n));
  svg += "</svg>\n";
  return svg;
}

}  // namespace costroute
