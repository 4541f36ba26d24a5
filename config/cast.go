package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The cast helpers are strict where viper's GetInt/GetDuration silently
// return zero for garbage: a typo in a setting must stop start-up.

func castInt(v any) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case float64:
		if x != float64(int(x)) {
			return 0, fmt.Errorf("not a whole number: %v", x)
		}
		return int(x), nil
	case string:
		return strconv.Atoi(strings.TrimSpace(x))
	}
	return 0, fmt.Errorf("not a number: %v", v)
}

func castDuration(v any) (time.Duration, error) {
	switch x := v.(type) {
	case time.Duration:
		return x, nil
	case string:
		return time.ParseDuration(strings.TrimSpace(x))
	case int:
		// A bare number is seconds; past this it would overflow.
		if x > math.MaxInt64/int(time.Second) || x < math.MinInt64/int(time.Second) {
			return 0, fmt.Errorf("too long: %v seconds", x)
		}
		return time.Duration(x) * time.Second, nil
	}
	return 0, fmt.Errorf("not a duration: %v", v)
}

func castBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		return strconv.ParseBool(strings.TrimSpace(x))
	}
	return false, fmt.Errorf("not a boolean: %v", v)
}
