# Sourced by the scripts: `free_port VAR` sets VAR to a free loopback port
# (bench/port.py says which ones, and why not the kernel's choice), never
# one it gave this script before, reserved against the tests' own choices
# until the script ends.
ports_given=()
free_port() {
	local port
	port=$(python3 bench/port.py --for $$ "${ports_given[@]}")
	ports_given+=("$port")
	printf -v "$1" %s "$port"
}
