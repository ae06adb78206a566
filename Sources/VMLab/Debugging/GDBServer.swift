// `vmlab boot --gdb PORT`: GDB's remote serial protocol over TCP on the loopback interface, for one
// connection (`target remote :PORT` in gdb-multiarch). The guest waits, stopped before its first
// instruction, until GDB connects. While it runs (`continue`) the server runs it in slices and looks
// for GDB's Ctrl-C between them; a stop the machine reports (a breakpoint, a watchpoint, power-off)
// is sent as GDB's stop reply. Those stops come from instruction counts and addresses, never from
// host time, so the same commands replay a session exactly; only a Ctrl-C lands where the host had
// got to (at a slice's end). Packet handling is in GDBStub.swift.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum GDBServer {
    /// How a session ended.
    public enum Outcome {
        /// GDB detached (or went away without killing the target): the guest runs on without it.
        case detached
        /// GDB killed the target, or the guest powered off under GDB: this was the run's end.
        case ended(VirtualMachine.Stop)
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Guest instructions per run between looks for GDB's Ctrl-C.
    static let slice: UInt64 = 200_000

    /// A listening socket on 127.0.0.1:`port` (0: any free port); returns it and the port it got.
    public static func listening(port: UInt16) throws(Failure) -> (socket: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "--gdb: cannot create a socket: \(errorText())") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = loopback(port: port)
        guard withSocketAddress(address, { bind(fd, $0, $1) }) == 0, listen(fd, 1) == 0 else {
            let why = errorText()
            close(fd)
            throw Failure(description: "--gdb: cannot listen on 127.0.0.1:\(port): \(why)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    /// Waits for GDB on `listener` (closed afterwards) and serves it until it detaches or kills
    /// the target, or the guest powers off.
    public static func serve(_ vm: VirtualMachine, listener: Int32) throws(Failure) -> Outcome {
        let connection = accept(listener, nil, nil)
        let why = errno
        close(listener)
        guard connection >= 0 else {
            // Ctrl-C while waiting (HostInterrupt's handler interrupts the call).
            if why == EINTR { throw Failure(description: "interrupted while waiting for GDB") }
            throw Failure(description: "--gdb: accepting GDB's connection failed: \(String(cString: strerror(why)))")
        }
        defer { close(connection) }
        var nodelay: Int32 = 1
        setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &nodelay, socklen_t(MemoryLayout<Int32>.size))
        let session = Session(vm: vm, connection: connection)
        return session.serve()
    }

    static func errorText() -> String { String(cString: strerror(errno)) }

    /// 127.0.0.1:`port`.
    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    /// `body` given `address` as the generic socket address bind and connect take.
    static func withSocketAddress(_ address: sockaddr_in, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var address = address
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    /// One connection: bytes in, packets out.
    final class Session {
        let stub: GDBStub
        let connection: Int32
        var framer = GDBFramer()
        /// Inputs received but not handled yet (a Ctrl-C may arrive with a packet behind it).
        var pending: [GDBInput] = []

        init(vm: VirtualMachine, connection: Int32) {
            stub = GDBStub(vm: vm)
            self.connection = connection
        }

        func serve() -> Outcome {
            var lastStop = VirtualMachine.Stop(name: "gdb", message: "GDB closed the connection")
            while true {
                guard let input = next(wait: true) else {
                    // The connection closed without a kill: as a detach.
                    stub.removeAllPoints()
                    return .detached
                }
                switch input {
                case .corrupt:
                    sendRaw([UInt8(ascii: "-")])
                case .interrupt:
                    // Already stopped: say so again.
                    sendPacket(stub.interruptReply())
                case .packet(let packet):
                    sendRaw([UInt8(ascii: "+")])
                    switch stub.handle(packet) {
                    case .reply(let packets):
                        for p in packets { sendPacket(p) }
                    case .detach:
                        stub.removeAllPoints()
                        sendPacket("OK")
                        return .detached
                    case .kill:
                        stub.removeAllPoints()
                        lastStop.name = "killed"
                        lastStop.message = "GDB killed the guest"
                        return .ended(lastStop)
                    case .resume(let step):
                        let (reply, stop) = stub.resume(step: step, slice: GDBServer.slice, interruption: interruption)
                        sendPacket(reply)
                        if let stop, stop.name == "poweroff" { return .ended(stop) }
                        if let stop { lastStop = stop }
                    }
                }
            }
        }

        /// Between slices of a run: the reply that ends it when GDB pressed Ctrl-C, or went away
        /// (`X09`, as if the guest were killed), else nil.
        private func interruption() -> String? {
            if readAvailable(wait: false) == false { return "X09" }
            if let i = pending.firstIndex(of: .interrupt) {
                pending.remove(at: i)
                return stub.interruptReply()
            }
            return nil
        }

        /// The next input, reading from the socket as needed; nil once the connection closed.
        private func next(wait: Bool) -> GDBInput? {
            while pending.isEmpty {
                guard readAvailable(wait: wait) else { return nil }
                if !wait && pending.isEmpty { return nil }
            }
            return pending.removeFirst()
        }

        /// Reads what has arrived (blocking for something when `wait`); false once the peer closed.
        private func readAvailable(wait: Bool) -> Bool {
            var descriptor = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, wait ? -1 : 0)
            if ready < 0 { return errno == EINTR }
            if ready == 0 { return true }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = recv(connection, &buffer, buffer.count, 0)
            if n <= 0 { return n < 0 && errno == EINTR }
            pending += framer.feed(buffer[0..<n])
            return true
        }

        func sendPacket(_ payload: String) { sendRaw(GDBFramer.frame(payload)) }

        /// Writes all of `bytes` (the acknowledgement GDB sends back is read with the next packet).
        func sendRaw(_ bytes: [UInt8]) {
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 {
                    if n < 0 && errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
    }
}
