// virtio-console (virtio v1.2 §5.3), device ID 3, a single port: queue 0 receiveq (host → guest),
// queue 1 transmitq (guest → host). No optional features (no MULTIPORT, SIZE or EMERG_WRITE), so
// the configuration space is unused and reads 0.
//
// Transmitted bytes go to the console sink the board installs (the same capture as the UART, so
// `vm:console()` shows both). Host input waits in a queue and fills receive buffers as the driver
// posts them, in order; nothing is dropped.

import Machine

public final class VirtioConsole: VirtioBackend {
    public static let receiveQueue = 0
    public static let transmitQueue = 1

    public let deviceID = VirtioDeviceID.console
    public let queueCount = 2
    public let deviceFeatures: UInt64 = 0
    public var sink: (any ConsoleSink)?

    private weak var transport: VirtioMMIO?
    private var input: [UInt8] = []

    public init(sink: (any ConsoleSink)? = nil) { self.sink = sink }

    public func attach(to transport: VirtioMMIO) { self.transport = transport }
    public func readConfig(offset: Int, size: Int) -> UInt64 { 0 }
    public func writeConfig(offset: Int, size: Int, value: UInt64) {}
    public func reset() {}

    /// Bytes for the guest to read.
    public func enqueueInput(_ bytes: [UInt8]) {
        input.append(contentsOf: bytes)
        transport?.guarded { () throws(VirtioRingError) in try deliverInput() }
    }

    public var pendingInputCount: Int { input.count }

    public func queueNotified(_ queue: Int) throws(VirtioRingError) {
        guard let transport else { return }
        switch queue {
        case Self.transmitQueue:
            while let chain = try transport.popChain(queue: queue) {
                let bytes = try chain.read(transport.memory)
                try transport.pushUsed(chain, written: 0)
                transport.account(fromGuest: bytes.count)
                if !bytes.isEmpty { sink?.consoleWrite(bytes) }
            }
            try transport.signalUsed(queue: queue)
        case Self.receiveQueue:
            try deliverInput()
        default:
            break
        }
    }

    private func deliverInput() throws(VirtioRingError) {
        guard let transport, transport.isLive else { return }
        var delivered = false
        while !input.isEmpty, let chain = try transport.popChain(queue: Self.receiveQueue) {
            let n = min(chain.writableLength, input.count)
            try chain.write(transport.memory, Array(input[0..<n]))
            input.removeFirst(n)
            try transport.pushUsed(chain, written: n)
            transport.account(toGuest: n)
            delivered = true
        }
        if delivered { try transport.signalUsed(queue: Self.receiveQueue) }
    }
}

// MARK: Snapshots

public struct VirtioConsoleState: DeviceState, Equatable {
    public let input: [UInt8]
}

extension VirtioConsole {
    public func saveBackendState() -> any DeviceState { VirtioConsoleState(input: input) }

    public func acceptsBackendState(_ state: any DeviceState) -> Bool { state is VirtioConsoleState }

    public func restoreBackendState(_ state: any DeviceState) -> Bool {
        guard let s = state as? VirtioConsoleState else { return false }
        input = s.input
        return true
    }
}
