// SpiderMonkey (mozjs-102) headers for the CloudFront Functions runtime, and only for it.
// They come in as system headers (-isystem from pkg-config) and are fenced here as well, so the
// engine's own warnings never reach -Werror while our code keeps every warning on.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#pragma GCC diagnostic ignored "-Wshadow"
#include <js/Array.h>
#include <js/BuildId.h>
#include <js/CompilationAndEvaluation.h>
#include <js/Context.h>
#include <js/ContextOptions.h>
#include <js/Conversions.h>
#include <js/ErrorReport.h>
#include <js/Exception.h>
#include <js/GCAPI.h>
#include <js/Initialization.h>
#include <js/Interrupt.h>
#include <js/JSON.h>
#include <js/Principals.h>
#include <js/Promise.h>
#include <js/PropertyAndElement.h>
#include <js/PropertySpec.h>
#include <js/RealmOptions.h>
#include <js/SourceText.h>
#include <js/Stack.h>
#include <js/String.h>
#include <js/experimental/TypedData.h>
#include <jsapi.h>
#include <jsfriendapi.h>
#pragma GCC diagnostic pop

// GCC 12 reports every JS::Rooted<T> as a dangling pointer: a Rooted links its own address into
// the context's root list and unlinks it in its destructor, which is the design, not a bug.
// The rest of each file that includes this header keeps the warning off.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif
