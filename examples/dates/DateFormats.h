//===- examples/dates/DateFormats.h - human-readable dates and their ISO form ===//
//
// The data of the dates examples: a calendar date written the ways people write it
// ("25th of March 2003", "tue 3/25/03", "March 25, 2003", "2003.03.25", ...) and its ISO 8601
// form "2003-03-25", the model's target.
//
// Every format reads back to exactly one date. Slashes are always month first (US), dots with a
// two-digit field first are always day first ("25.03.03"), and two-digit years stand for
// 1950-2049 (50-99: 19xx, 00-49: 20xx), so dates must lie in those years. Formats with words
// come in lower case, Title Case or UPPER CASE.
//
// generateDates draws a seeded, deterministic training set and held-out set. The held-out
// dates are calendar dates that the training set never shows in any format, so no held-out
// string is a training string: the model must compose a date from its parts.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace weft::examples::dates {

struct Date {
  int year = 2000, month = 1, day = 1;
  bool operator==(const Date &) const = default;
};

enum class Format {
  OrdinalOfMonthYear,      ///< 25th of March 2003
  WeekdayUsShort,          ///< tue 3/25/03
  MonthDayCommaYear,       ///< March 25, 2003
  DottedIso,               ///< 2003.03.25
  DayMonthYear,            ///< 25 March 2003
  UsSlash,                 ///< 3/25/2003
  DottedDayFirstShort,     ///< 25.03.03
  WeekdayMonthDayYear,     ///< Tuesday, March 25, 2003
  AbbrevMonthDayShortYear, ///< mar 25 03
  MonthOrdinalCommaYear,   ///< March 25th, 2003
  WeekdayDayAbbrevMonth,   ///< Tue, 25 Mar 2003
  DayDashAbbrevMonthYear,  ///< 25-Mar-2003
  TheOrdinalOfMonthYear,   ///< the 25th of march, 2003
  Iso,                     ///< 2003-03-25
};
inline constexpr int kNumFormats = 14;

/// A short name for messages and tests ("ordinal-of-month-year", ...).
std::string_view formatName(Format f);
/// Whether the format has words (month or weekday names), whose case varies.
bool hasWords(Format f);

enum class Casing { Lower, Title, Upper };

/// Whether `d` is a real calendar date.
bool isValid(const Date &d);
/// 0 = Monday ... 6 = Sunday.
int weekday(const Date &d);
/// "2003-03-25".
std::string iso(const Date &d);
/// `d` written in `format`; `casing` applies to formats with words. Formats with a two-digit
/// year need 1950 <= year <= 2049.
std::string format(const Date &d, Format format, Casing casing = Casing::Title);

/// The most characters any format writes for any date (every date of a leap year in every
/// format: the length does not depend on the year).
int64_t longestDate();

/// The date of day `index` counted from 1950-01-01 (index 0), and back.
Date dateOfDay(int64_t index);
int64_t dayOf(const Date &d);

struct Example {
  std::string human, iso;
};

struct GenerateOptions {
  int64_t seed = 1;
  int64_t trainExamples = 40000, heldOutExamples = 2000;
  /// Dates from the first of January of firstYear to the 31st of December of lastYear, within
  /// 1950-2049.
  int firstYear = 1950, lastYear = 2049;
  /// The share of the calendar dates kept for the held-out set.
  double heldOutDates = 0.1;
};

struct DateSplit {
  std::vector<Example> train, heldOut;
};

/// Draws examples as the file comment says: each a uniformly drawn date of its side of the
/// split, in a uniformly drawn format and casing. Throws weft::Error for years outside
/// 1950-2049, firstYear > lastYear, or a held-out share that leaves a side without dates.
DateSplit generateDates(const GenerateOptions &options);

} // namespace weft::examples::dates
