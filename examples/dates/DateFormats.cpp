//===- examples/dates/DateFormats.cpp -------------------------------------===//
#include "examples/dates/DateFormats.h"

#include "runtime/Random.h"
#include "runtime/Support.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <numeric>
#include <span>

namespace weft::examples::dates {
namespace {

constexpr std::array<std::string_view, 12> kMonths = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
constexpr std::array<std::string_view, 7> kWeekdays = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
constexpr int kFirstYear = 1950, kLastYear = 2049;

std::chrono::year_month_day ymd(const Date &d) {
  return std::chrono::year_month_day{std::chrono::year{d.year},
                                     std::chrono::month{static_cast<unsigned>(d.month)},
                                     std::chrono::day{static_cast<unsigned>(d.day)}};
}

std::string abbrev(std::string_view name) { return std::string(name.substr(0, 3)); }

/// 1 -> "1st", 2 -> "2nd", 11 -> "11th", 22 -> "22nd".
std::string ordinal(int n) {
  const char *suffix = "th";
  if (n % 100 < 11 || n % 100 > 13) {
    if (n % 10 == 1)
      suffix = "st";
    else if (n % 10 == 2)
      suffix = "nd";
    else if (n % 10 == 3)
      suffix = "rd";
  }
  return fmt::format("{}{}", n, suffix);
}

/// The last two digits of a year in 1950-2049.
std::string shortYear(int year) {
  if (year < kFirstYear || year > kLastYear)
    throw Error(
        err(fmt::format("dates: a two-digit year stands for 1950-2049; {} is outside", year)));
  return fmt::format("{:02}", year % 100);
}

/// Applies `casing` to the letters of `s`, whose words arrive in Title Case.
std::string applyCasing(std::string s, Casing casing) {
  for (char &ch : s) {
    unsigned char u = static_cast<unsigned char>(ch);
    if (casing == Casing::Lower)
      ch = static_cast<char>(std::tolower(u));
    else if (casing == Casing::Upper)
      ch = static_cast<char>(std::toupper(u));
  }
  return s;
}

/// A uniform integer in [0, n) from counter `i` of stream `seed`.
int64_t below(int64_t seed, uint64_t i, int64_t n) {
  return static_cast<int64_t>(random::uniformF64(seed, i) * double(n));
}

} // namespace

std::string_view formatName(Format f) {
  switch (f) {
  case Format::OrdinalOfMonthYear:
    return "ordinal-of-month-year";
  case Format::WeekdayUsShort:
    return "weekday-us-short";
  case Format::MonthDayCommaYear:
    return "month-day-comma-year";
  case Format::DottedIso:
    return "dotted-iso";
  case Format::DayMonthYear:
    return "day-month-year";
  case Format::UsSlash:
    return "us-slash";
  case Format::DottedDayFirstShort:
    return "dotted-day-first-short";
  case Format::WeekdayMonthDayYear:
    return "weekday-month-day-year";
  case Format::AbbrevMonthDayShortYear:
    return "abbrev-month-day-short-year";
  case Format::MonthOrdinalCommaYear:
    return "month-ordinal-comma-year";
  case Format::WeekdayDayAbbrevMonth:
    return "weekday-day-abbrev-month";
  case Format::DayDashAbbrevMonthYear:
    return "day-dash-abbrev-month-year";
  case Format::TheOrdinalOfMonthYear:
    return "the-ordinal-of-month-year";
  case Format::Iso:
    return "iso";
  }
  return "unknown";
}

bool hasWords(Format f) {
  switch (f) {
  case Format::DottedIso:
  case Format::UsSlash:
  case Format::DottedDayFirstShort:
  case Format::Iso:
    return false;
  default:
    return true;
  }
}

bool isValid(const Date &d) { return d.month >= 1 && d.month <= 12 && ymd(d).ok(); }

int weekday(const Date &d) {
  // C++'s weekday counts from Sunday = 0.
  unsigned sundayFirst = std::chrono::weekday{std::chrono::sys_days{ymd(d)}}.c_encoding();
  return static_cast<int>((sundayFirst + 6) % 7);
}

std::string iso(const Date &d) { return fmt::format("{:04}-{:02}-{:02}", d.year, d.month, d.day); }

std::string format(const Date &d, Format f, Casing casing) {
  if (!isValid(d))
    throw Error(err(
        fmt::format("dates: {:04}-{:02}-{:02} is not a calendar date", d.year, d.month, d.day)));
  std::string_view month = kMonths[static_cast<size_t>(d.month - 1)];
  std::string_view day = kWeekdays[static_cast<size_t>(weekday(d))];
  std::string s;
  switch (f) {
  case Format::OrdinalOfMonthYear:
    s = fmt::format("{} of {} {}", ordinal(d.day), month, d.year);
    break;
  case Format::WeekdayUsShort:
    s = fmt::format("{} {}/{}/{}", abbrev(day), d.month, d.day, shortYear(d.year));
    break;
  case Format::MonthDayCommaYear:
    s = fmt::format("{} {}, {}", month, d.day, d.year);
    break;
  case Format::DottedIso:
    s = fmt::format("{:04}.{:02}.{:02}", d.year, d.month, d.day);
    break;
  case Format::DayMonthYear:
    s = fmt::format("{} {} {}", d.day, month, d.year);
    break;
  case Format::UsSlash:
    s = fmt::format("{}/{}/{}", d.month, d.day, d.year);
    break;
  case Format::DottedDayFirstShort:
    s = fmt::format("{:02}.{:02}.{}", d.day, d.month, shortYear(d.year));
    break;
  case Format::WeekdayMonthDayYear:
    s = fmt::format("{}, {} {}, {}", day, month, d.day, d.year);
    break;
  case Format::AbbrevMonthDayShortYear:
    s = fmt::format("{} {} {}", abbrev(month), d.day, shortYear(d.year));
    break;
  case Format::MonthOrdinalCommaYear:
    s = fmt::format("{} {}, {}", month, ordinal(d.day), d.year);
    break;
  case Format::WeekdayDayAbbrevMonth:
    s = fmt::format("{}, {} {} {}", abbrev(day), d.day, abbrev(month), d.year);
    break;
  case Format::DayDashAbbrevMonthYear:
    s = fmt::format("{}-{}-{}", d.day, abbrev(month), d.year);
    break;
  case Format::TheOrdinalOfMonthYear:
    s = fmt::format("The {} of {}, {}", ordinal(d.day), month, d.year);
    break;
  case Format::Iso:
    s = iso(d);
    break;
  }
  return applyCasing(std::move(s), casing);
}

int64_t longestDate() {
  size_t longest = 0;
  for (int64_t day = dayOf({2000, 1, 1}); day <= dayOf({2000, 12, 31}); ++day)
    for (int f = 0; f < kNumFormats; ++f)
      longest = std::max(longest, format(dateOfDay(day), static_cast<Format>(f)).size());
  return static_cast<int64_t>(longest);
}

Date dateOfDay(int64_t index) {
  using namespace std::chrono;
  sys_days first{year{kFirstYear} / January / 1};
  year_month_day d{first + days{index}};
  return {static_cast<int>(d.year()), static_cast<int>(static_cast<unsigned>(d.month())),
          static_cast<int>(static_cast<unsigned>(d.day()))};
}

int64_t dayOf(const Date &d) {
  using namespace std::chrono;
  sys_days first{year{kFirstYear} / January / 1};
  return (sys_days{ymd(d)} - first).count();
}

DateSplit generateDates(const GenerateOptions &o) {
  if (o.firstYear < kFirstYear || o.lastYear > kLastYear || o.firstYear > o.lastYear)
    throw Error(err(fmt::format("dates: the years must lie within {}-{} in order, got {}-{}",
                                kFirstYear, kLastYear, o.firstYear, o.lastYear)));
  int64_t first = dayOf({o.firstYear, 1, 1}), last = dayOf({o.lastYear, 12, 31});
  std::vector<int64_t> days(static_cast<size_t>(last - first + 1));
  std::iota(days.begin(), days.end(), first);
  // A seeded Fisher-Yates shuffle: the first heldOutDates of the days are held out.
  uint64_t draw = 0;
  for (size_t i = days.size() - 1; i > 0; --i)
    std::swap(days[i], days[static_cast<size_t>(below(o.seed, draw++, int64_t(i) + 1))]);
  auto held = static_cast<size_t>(o.heldOutDates * double(days.size()));
  if (held == 0 || held >= days.size())
    throw Error(err(fmt::format("dates: holding out {} of {} dates leaves a side without dates",
                                o.heldOutDates, days.size())));
  std::span<const int64_t> heldDays(days.data(), held),
      trainDays(days.data() + held, days.size() - held);
  auto drawExamples = [&](std::span<const int64_t> pool, int64_t n) {
    std::vector<Example> out;
    out.reserve(static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k) {
      Date d = dateOfDay(pool[static_cast<size_t>(below(o.seed, draw++, int64_t(pool.size())))]);
      auto f = static_cast<Format>(below(o.seed, draw++, kNumFormats));
      auto casing = static_cast<Casing>(below(o.seed, draw++, 3));
      out.push_back({format(d, f, casing), iso(d)});
    }
    return out;
  };
  DateSplit split;
  split.train = drawExamples(trainDays, o.trainExamples);
  split.heldOut = drawExamples(heldDays, o.heldOutExamples);
  return split;
}

} // namespace weft::examples::dates
