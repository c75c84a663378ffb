//go:build !race

package book

// raceEnabled scales long tests down under the race detector.
const raceEnabled = false
