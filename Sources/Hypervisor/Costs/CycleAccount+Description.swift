// How an account prints: always with the profile that priced it, since a cycle count means nothing
// without its prices (`classic-2006 (edited: vm_entry=1000): 12345 cycles ...`).

extension CycleAccount: CustomStringConvertible {
    /// The profile, the total in cycles and microseconds, then the cycles of every category that
    /// has any, and the waited cycles if any, one per line.
    public var description: String {
        var lines = ["\(profile): \(total) cycles (\(Self.fixed2(microsecondsHundredths)) µs at \(profile.clockDescription))"]
        let width = CostCategory.allCases.map(\.name.count).max()! + 2
        func line(_ label: String, _ n: UInt64) {
            lines.append("  " + label + String(repeating: " ", count: width - label.count) + String(n))
        }
        for (category, cycles) in byCategory where cycles != 0 { line(category.name, cycles) }
        if waitedCycles != 0 { line("waited", waitedCycles) }
        return lines.joined(separator: "\n")
    }

    /// `total` in hundredths of a microsecond, rounded down, in integers so printing is exact.
    private var microsecondsHundredths: UInt64 {
        let product = total.multipliedFullWidth(by: 100_000_000)
        let clock = profile.clockHz
        // The quotient fits unless the total exceeds ~10^11 s of modelled time.
        guard product.high < clock else { return .max }
        return clock.dividingFullWidth(product).quotient
    }

    private static func fixed2(_ hundredths: UInt64) -> String {
        let frac = hundredths % 100
        return "\(hundredths / 100).\(frac < 10 ? "0" : "")\(frac)"
    }
}
