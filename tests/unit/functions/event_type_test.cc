#include <gtest/gtest.h>

#include "functions/function.h"

namespace eg::functions {

TEST(EventType, NamesRoundTripAndUnknownNamesAreRefused) {
  for (auto e : {EventType::ViewerRequest, EventType::OriginRequest, EventType::OriginResponse,
                 EventType::ViewerResponse})
    EXPECT_EQ(parse_event_type(to_string(e)), e);
  EXPECT_EQ(to_string(EventType::OriginResponse), "origin-response");
  EXPECT_FALSE(parse_event_type("viewer_request").has_value());
}

}  // namespace eg::functions
