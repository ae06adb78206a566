import ArgumentParser
import VMLab

public struct VMLabCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "vmlab", abstract: "A virtualisation laboratory.")
    public init() {}
    public func run() throws {}
}
