package ringfeed

// ShareFrames makes full-speed replays hand the processor every frame that
// fits a slot unparsed (all) or none, instead of as the processor runs
// short of parsed work, until restore is called. Tests that call it must
// not run in parallel with other replays.
func ShareFrames(all bool) (restore func()) {
	w := rawLowWater
	rawLowWater = 0 // a ring never holds fewer than 0 slots: none
	if all {
		rawLowWater = 1 << 62
	}
	return func() { rawLowWater = w }
}

// SharedFrames returns how many frames a replay's processor parsed.
func SharedFrames(r ReplayResult) int { return r.shared }
