//===- runtime/Support.h - errors as values, source locations, assertions ------===//
//
// Inside the compiler failures travel as values: `Status` (ok or an error) and
// `Expected<T>` (a T or an error). Each error carries a located, user-facing
// message. At the DSL surface the same error is thrown as `weft::Error`.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace weft {

[[noreturn]] inline void unreachable(const char *what, const char *file, int line) {
  std::fprintf(stderr, "weft internal error: %s (%s:%d)\n", what, file, line);
  std::abort();
}

/// Where something came from: a file and line (DSL code, IR text) or nowhere.
struct Loc {
  std::string file;
  uint32_t line = 0;
  uint32_t column = 0;

  bool known() const { return line != 0; }
  /// "file:line:col" (or "file:line" when the column is unknown); empty when unknown.
  std::string str() const;
};

/// A located, user-facing error message.
struct Diag {
  std::string message;
  Loc loc;

  /// The message prefixed with its location, as printed to users.
  std::string str() const { return loc.known() ? loc.str() + ": " + message : message; }
};

/// The one exception type weft throws, at the DSL surface and from tools' entry points.
class Error : public std::runtime_error {
public:
  explicit Error(Diag d) : std::runtime_error(d.str()), diag_(std::move(d)) {}
  const Diag &diag() const { return diag_; }

private:
  Diag diag_;
};

/// Success, or a located error.
class [[nodiscard]] Status {
public:
  Status() = default;
  Status(Diag d) : diag_(std::move(d)) {}
  static Status ok() { return {}; }

  bool isOk() const { return !diag_; }
  explicit operator bool() const { return isOk(); }
  /// The error; only for a Status that holds one (a bug in weft, not user error, otherwise).
  const Diag &diag() const {
    if (!diag_)
      unreachable("Status::diag() of a success: test isOk() first", __FILE__, __LINE__);
    return *diag_;
  }
  std::string message() const { return diag_ ? diag_->str() : std::string(); }
  /// Throws weft::Error if this is an error.
  void check() const {
    if (diag_)
      throw Error(*diag_);
  }

private:
  std::optional<Diag> diag_;
};

/// A value of type T, or a located error.
template <typename T> class [[nodiscard]] Expected {
public:
  Expected(T value) : v_(std::move(value)) {}
  Expected(Diag d) : v_(std::move(d)) {}
  Expected(const Status &s) : v_(s.diag()) {}

  bool isOk() const { return v_.index() == 0; }
  explicit operator bool() const { return isOk(); }
  T &operator*() { return std::get<0>(v_); }
  const T &operator*() const { return std::get<0>(v_); }
  T *operator->() { return &std::get<0>(v_); }
  const T *operator->() const { return &std::get<0>(v_); }
  /// The error; only for an Expected that holds one (a bug in weft, not user error, otherwise).
  const Diag &diag() const {
    if (isOk())
      unreachable("Expected::diag() of a value: test isOk() first", __FILE__, __LINE__);
    return std::get<1>(v_);
  }
  Status status() const { return isOk() ? Status() : Status(diag()); }
  /// Returns the value or throws weft::Error.
  T take() {
    if (!isOk())
      throw Error(diag());
    return std::move(std::get<0>(v_));
  }

private:
  std::variant<T, Diag> v_;
};

/// Makes an error with an unknown location.
inline Diag err(std::string message) { return Diag{std::move(message), {}}; }
inline Diag err(std::string message, Loc loc) { return Diag{std::move(message), std::move(loc)}; }

} // namespace weft

/// Marks code that is a bug in weft if reached (not user error).
#define WEFT_UNREACHABLE(msg) ::weft::unreachable(msg, __FILE__, __LINE__)

/// Checks an invariant of weft itself, in release builds too. User errors never reach this.
#define WEFT_CHECK(cond, msg)                                                                      \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      ::weft::unreachable(msg, __FILE__, __LINE__);                                                \
  } while (0)

/// Returns early from a function returning Status or Expected<T> when `expr` failed.
#define WEFT_TRY(expr)                                                                             \
  do {                                                                                             \
    auto weft_try_status_ = (expr);                                                                \
    if (!weft_try_status_)                                                                         \
      return weft_try_status_.diag();                                                              \
  } while (0)
