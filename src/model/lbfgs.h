// Private: limited-memory BFGS with a strong Wolfe line search (Nocedal and
// Wright, Numerical Optimization, 2nd ed., algorithms 7.4, 3.5 and 3.6).
#ifndef COSTROUTE_SRC_MODEL_LBFGS_H_
#define COSTROUTE_SRC_MODEL_LBFGS_H_

#include <Eigen/Core>
#include <functional>

namespace costroute::internal {

struct LbfgsOptions {
  int memory = 10;
  int max_iterations = 2000;
  // Converged when max|g| <= tolerance * max|g0| (g0: the gradient at the
  // start; a start with g0 = 0 has converged).
  double tolerance = 1e-9;
};

struct LbfgsResult {
  int iterations = 0;
  int evaluations = 0;
  double value = 0.0;
  double relative_gradient = 0.0;  // max|g| / max(1, max|g0|)
  bool converged = false;
};

// Returns f(x) and writes its gradient.
using Objective = std::function<double(const Eigen::VectorXd& x,
                                       Eigen::VectorXd& gradient)>;

// Minimizes a smooth convex `f` from `x`, which receives the solution.
LbfgsResult minimize_lbfgs(const Objective& f, Eigen::VectorXd& x,
                           const LbfgsOptions& options);

}  // namespace costroute::internal

#endif  // COSTROUTE_SRC_MODEL_LBFGS_H_
