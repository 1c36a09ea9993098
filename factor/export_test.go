package factor

// Devices are every kind of device held.
var Devices = []Device{Phone, App, Passkey}
