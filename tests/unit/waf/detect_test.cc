#include <gtest/gtest.h>

#include "waf/detect.h"

TEST(DetectSqli, Placeholder) { EXPECT_TRUE(eg::waf::sqli_match("1 union select 1", eg::waf::Sensitivity::Low)); }
