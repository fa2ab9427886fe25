#include "functions/function.h"

namespace eg::functions {

namespace {
constexpr std::string_view kNames[] = {"viewer-request", "origin-request", "origin-response",
                                       "viewer-response"};
}

std::string_view to_string(EventType e) { return kNames[static_cast<size_t>(e)]; }

std::optional<EventType> parse_event_type(std::string_view s) {
  for (size_t i = 0; i < std::size(kNames); ++i)
    if (kNames[i] == s) return static_cast<EventType>(i);
  return std::nullopt;
}

}  // namespace eg::functions
