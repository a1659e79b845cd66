#include "model/lbfgs.h"

#include <algorithm>
#include <cmath>
#include <deque>

namespace costroute::internal {
namespace {

constexpr double kArmijo = 1e-4;  // c1: sufficient decrease
constexpr double kCurvature = 0.9;  // c2: usual for quasi-Newton methods
constexpr int kMaxLineSearchSteps = 40;
// Near the optimum, changes in f fall below its rounding noise and the
// Armijo test becomes a coin toss. Hager and Zhang's approximate Wolfe
// conditions (SIAM J. Optim. 16(1), 2005) then judge a step by its slope,
// allowing f to rise by at most this fraction of |f|.
constexpr double kValueNoise = 1e-11;

struct Point {
  double step = 0.0;
  double value = 0.0;
  double slope = 0.0;  // directional derivative at `step`
};

// The minimizer of the cubic through two points with slopes, kept inside the
// bracket's middle 80%; bisection when the cubic has no usable minimum.
double interpolate(const Point& a, const Point& b) {
  const double lo = std::min(a.step, b.step);
  const double hi = std::max(a.step, b.step);
  const double d1 = a.slope + b.slope - 3.0 * (a.value - b.value) / (a.step - b.step);
  const double disc = d1 * d1 - a.slope * b.slope;
  double t = 0.5 * (lo + hi);
  if (disc >= 0.0) {
    const double d2 = std::copysign(std::sqrt(disc), b.step - a.step);
    const double denom = b.slope - a.slope + 2.0 * d2;
    if (denom != 0.0) {
      const double c = b.step - (b.step - a.step) * (b.slope + d2 - d1) / denom;
      if (std::isfinite(c)) t = c;
    }
  }
  const double margin = 0.1 * (hi - lo);
  return std::clamp(t, lo + margin, hi - margin);
}

class LineSearch {
 public:
  LineSearch(const Objective& f, const Eigen::VectorXd& x, const Eigen::VectorXd& d,
             double f0, double slope0, int& evaluations)
      : f_(f), x_(x), d_(d), start_{0.0, f0, slope0}, evaluations_(evaluations) {}

  // Finds a step meeting the strong Wolfe conditions. On success writes the
  // new point and gradient and returns true.
  bool run(double step, Eigen::VectorXd& x_out, Eigen::VectorXd& g_out, double& f_out) {
    Point previous = start_;
    for (int i = 0; i < kMaxLineSearchSteps; ++i) {
      const Point p = evaluate(step);
      if (!std::isfinite(p.value) || !decreases(p) || (i > 0 && p.value >= previous.value)) {
        if (!std::isfinite(p.value)) {
          step *= 0.5;  // overflow: shrink until finite, then bracket
          continue;
        }
        return zoom(previous, p, x_out, g_out, f_out);
      }
      if (std::fabs(p.slope) <= -kCurvature * start_.slope) return accept(x_out, g_out, f_out);
      if (p.slope >= 0.0) return zoom(p, previous, x_out, g_out, f_out);
      previous = p;
      step *= 2.0;
    }
    return false;
  }

 private:
  // Sufficient decrease: Armijo, or its approximate form near the optimum.
  // The change is compared, not f0 + c1 * step * slope, which rounds to f0
  // when the expected decrease is below f0's last digit.
  bool decreases(const Point& p) const {
    const double change = p.value - start_.value;
    if (change <= kArmijo * p.step * start_.slope) return true;
    return change <= kValueNoise * std::fabs(start_.value) &&
           p.slope <= (2.0 * kArmijo - 1.0) * start_.slope;
  }

  Point evaluate(double step) {
    x_try_ = x_ + step * d_;
    value_try_ = f_(x_try_, g_try_);
    ++evaluations_;
    return Point{step, value_try_, g_try_.dot(d_)};
  }

  bool accept(Eigen::VectorXd& x_out, Eigen::VectorXd& g_out, double& f_out) {
    x_out = x_try_;
    g_out = g_try_;
    f_out = value_try_;
    return true;
  }

  // `lo` satisfies sufficient decrease with the lower value; the minimum lies
  // between lo and hi.
  bool zoom(Point lo, Point hi, Eigen::VectorXd& x_out, Eigen::VectorXd& g_out,
            double& f_out) {
    for (int i = 0; i < kMaxLineSearchSteps; ++i) {
      if (std::fabs(hi.step - lo.step) <= 1e-16 * std::max(1.0, lo.step)) break;
      const Point p = evaluate(interpolate(lo, hi));
      // Within f's noise of lo, the slope tells on which side the minimum is.
      const double noise = kValueNoise * std::fabs(start_.value);
      const bool past_minimum = p.slope * (hi.step - lo.step) >= 0.0;
      if (!decreases(p) || p.value - lo.value >= noise ||
          (p.value - lo.value >= -noise && past_minimum)) {
        hi = p;
        continue;
      }
      if (std::fabs(p.slope) <= -kCurvature * start_.slope) return accept(x_out, g_out, f_out);
      if (p.slope * (hi.step - lo.step) >= 0.0) hi = lo;
      lo = p;
    }
    // The bracket collapsed at the limit of precision: take the best point
    // if it still improves on the start.
    if (lo.step > 0.0 && lo.value < start_.value) {
      evaluate(lo.step);
      return accept(x_out, g_out, f_out);
    }
    return false;
  }

  const Objective& f_;
  const Eigen::VectorXd& x_;
  const Eigen::VectorXd& d_;
  const Point start_;
  int& evaluations_;
  Eigen::VectorXd x_try_;
  Eigen::VectorXd g_try_;
  double value_try_ = 0.0;
};

}  // namespace

LbfgsResult minimize_lbfgs(const Objective& f, Eigen::VectorXd& x,
                           const LbfgsOptions& options) {
  LbfgsResult result;
  Eigen::VectorXd g(x.size());
  double fx = f(x, g);
  result.evaluations = 1;
  // Relative to the starting gradient however small it is: a floor (such as
  // max(1, |g0|)) would call a start "converged" whenever the loss is
  // scaled down far enough, as by a tiny C.
  const double g0 = g.lpNorm<Eigen::Infinity>();
  const double scale = g0 > 0.0 ? g0 : 1.0;
  std::deque<Eigen::VectorXd> s_history, y_history;
  std::deque<double> rho_history;
  Eigen::VectorXd d(x.size()), x_new(x.size()), g_new(x.size());
  std::vector<double> alpha(options.memory);

  for (result.iterations = 0; result.iterations < options.max_iterations;
       ++result.iterations) {
    result.relative_gradient = g.lpNorm<Eigen::Infinity>() / scale;
    if (result.relative_gradient <= options.tolerance) {
      result.converged = true;
      break;
    }
    // Two-loop recursion: d = -H g.
    d = -g;
    const int m = static_cast<int>(s_history.size());
    for (int i = m - 1; i >= 0; --i) {
      alpha[i] = rho_history[i] * s_history[i].dot(d);
      d -= alpha[i] * y_history[i];
    }
    if (m > 0) d *= 1.0 / (rho_history[m - 1] * y_history[m - 1].squaredNorm());
    for (int i = 0; i < m; ++i) {
      const double beta = rho_history[i] * y_history[i].dot(d);
      d += (alpha[i] - beta) * s_history[i];
    }
    double slope = g.dot(d);
    if (!(slope < 0.0)) {  // not a descent direction: restart
      s_history.clear(), y_history.clear(), rho_history.clear();
      d = -g;
      slope = -g.squaredNorm();
    }
    const double first_step = s_history.empty() ? std::min(1.0, 1.0 / d.lpNorm<Eigen::Infinity>()) : 1.0;
    double f_new = fx;
    LineSearch search(f, x, d, fx, slope, result.evaluations);
    if (!search.run(first_step, x_new, g_new, f_new)) {
      if (s_history.empty()) break;  // no progress possible even downhill
      s_history.clear(), y_history.clear(), rho_history.clear();
      continue;
    }
    Eigen::VectorXd s = x_new - x;
    Eigen::VectorXd y = g_new - g;
    const double sy = s.dot(y);
    x.swap(x_new);
    g.swap(g_new);
    fx = f_new;
    if (sy > 1e-16 * y.squaredNorm()) {
      if (static_cast<int>(s_history.size()) == options.memory) {
        s_history.pop_front(), y_history.pop_front(), rho_history.pop_front();
      }
      s_history.push_back(std::move(s));
      y_history.push_back(std::move(y));
      rho_history.push_back(1.0 / sy);
    }
  }
  result.relative_gradient = g.lpNorm<Eigen::Infinity>() / scale;
  result.converged = result.converged || result.relative_gradient <= options.tolerance;
  result.value = fx;
  return result;
}

}  // namespace costroute::internal
