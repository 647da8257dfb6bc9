// cmocka 1.1.5's header has no extern "C" guard and needs these includes first;
// C++ tests include this instead of <cmocka.h>.
#pragma once
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}
