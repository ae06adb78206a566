// swift-tools-version:6.0
// vmlab — a virtualisation laboratory: a simulated RISC-V machine and VMM driven from Lua 5.4.
//
// Modules, in dependency order (a module never imports one to its right; see DESIGN in README):
//   CLua / CLuaShim → LuaKit        generic Swift↔Lua bridge, knows nothing of vmlab
//   RISCV                           ISA facts: encodings, decoder, disassembler, assembler, CSR names
//   Machine                         hart, CSRs, traps, MMU/TLB, PMP, bus, RAM, interpreter, translator
//   Devices, Boot                   UART, CLINT, PLIC, virtio, syscon, HTIF; ELF, device tree, SBI
//   Hypervisor                      VMs, vCPUs, modes, paging techniques, costs, stats
//   VMLab                           the Lua API
//   VMLabCLI → vmlab                the command line
import PackageDescription

/// Dynamic exclusivity checks off in release builds only (see the targets that use it).
let releaseWithoutExclusivityChecks: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "vmlab",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "vmlab", targets: ["vmlab"]),
        .library(name: "VMLab", targets: ["VMLab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLua",
            pkgConfig: "lua5.4",
            providers: [.apt(["liblua5.4-dev"])]
        ),
        .target(name: "CLuaShim", dependencies: ["CLua"]),
        .target(name: "LuaKit", dependencies: ["CLua", "CLuaShim"]),

        .target(name: "RISCV"),
        .target(name: "Machine", dependencies: ["RISCV"],
                // The hart's state lives in class properties reached on every TLB miss, trap and CSR
                // access; dynamic exclusivity checks there cost more than the work (measured with
                // perf on labs/guests/bench, see Sources/Machine/Engine/Interpreter.swift).
                swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]),
        // The devices, the firmware and the VMM run on every trap a VMM takes (a device's deadline
        // is re-read after each one): their dynamic exclusivity checks cost a fifth of a
        // trap-heavy guest's host instructions (callgrind, tinyos syscall under trap). Debug builds,
        // which the tests use, keep the checks.
        .target(name: "Devices", dependencies: ["Machine", "RISCV"], swiftSettings: releaseWithoutExclusivityChecks),
        .target(name: "Boot", dependencies: ["Machine", "Devices", "RISCV"], swiftSettings: releaseWithoutExclusivityChecks),
        .target(name: "Hypervisor", dependencies: ["Machine", "Devices", "Boot", "RISCV"],
                swiftSettings: releaseWithoutExclusivityChecks),
        .target(name: "VMLab", dependencies: ["LuaKit", "Hypervisor", "Machine", "Devices", "Boot", "RISCV"],
                exclude: ["Resources"]),   // the generated editor annotations, checked by VMLabTests
        .target(name: "VMLabCLI", dependencies: [
            "VMLab",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "vmlab", dependencies: ["VMLabCLI"]),

        .testTarget(name: "LuaKitTests", dependencies: ["LuaKit"]),
        .testTarget(name: "RISCVTests", dependencies: ["RISCV", "GuestTestSupport"], exclude: ["Golden"]),
        .testTarget(name: "MachineTests", dependencies: ["Machine", "RISCV", "GuestTestSupport"]),
        .testTarget(name: "DevicesTests", dependencies: ["Devices", "Machine"]),
        // Test support shared by the test targets: guests built with scripts/build-guests, the
        // toolchain's directory, an ELF writer.
        .target(name: "GuestTestSupport", path: "Tests/GuestTestSupport"),
        .testTarget(name: "BootTests", dependencies: ["Boot", "Devices", "Machine", "GuestTestSupport"], exclude: ["Golden"]),
        .testTarget(name: "HypervisorTests",
                    dependencies: ["Hypervisor", "Machine", "RISCV", "Boot", "Devices", "GuestTestSupport"]),
        .testTarget(name: "VMLabTests", dependencies: ["VMLab", "LuaKit", "GuestTestSupport"]),
        .testTarget(name: "VMLabCLITests", dependencies: ["VMLabCLI", "vmlab"],
                    exclude: ["Fixtures", "Golden"]),   // Lua fixtures and help transcripts the tests read
    ]
)
