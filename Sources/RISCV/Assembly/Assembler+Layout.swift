// Layout and encoding: place items at addresses, grow compressed jumps and branches that cannot
// reach, then evaluate every expression and produce the bytes.

extension AssemblerSession {
    /// The largest flat image the assembler builds (sections far apart would need gigabytes).
    static let maximumImageSize: UInt64 = 64 << 20

    static func alignUp(_ v: UInt64, _ a: UInt64) -> UInt64 { a <= 1 ? v : (v &+ (a - 1)) / a &* a }

    func itemSize(_ item: Item, at offset: UInt64) -> UInt64 {
        switch item.kind {
        case .instruction(let inst, _, let compressed, let relax):
            switch relax {
            case .none: return compressed != nil ? 2 : 4
            case .form: return 2
            case .jump: return item.stage == 0 ? 2 : 4
            case .branch(let compressible):
                switch item.stage {
                case 0: return 2
                case 1: return 4
                default: return UInt64(longBranchHead(inst, compressible: compressible).size + 4)
                }
            }
        case .data(let width, let values): return UInt64(width * values.count)
        case .bytes(let b): return UInt64(b.count)
        case .fill(let count, _): return UInt64(count)
        case .align(let bytes, _, _, _): return Self.alignUp(offset, UInt64(bytes)) - offset
        }
    }

    func layout() throws(AssemblyError) {
        var next = options.base
        for s in sections.indices {
            var offset: UInt64 = 0
            for i in sections[s].items.indices {
                sections[s].items[i].offset = offset
                offset += itemSize(sections[s].items[i], at: offset)
            }
            sections[s].size = offset
            if let fixed = options.sectionAddresses[sections[s].name] {
                sections[s].address = fixed
            } else {
                sections[s].address = s == 0 ? next : Self.alignUp(next, max(sections[s].alignment, 16))
            }
            next = sections[s].address &+ offset
        }
    }

    /// The instruction with its expression operand evaluated at `pc`.
    func resolve(_ template: Instruction, _ operand: ImmediateOperand?, pc: UInt64) throws(AssemblyError) -> Instruction {
        guard let operand else { return template }
        var inst = template
        let value = try operand.expr.evaluate(environment(pc: pc))
        let v = value.value
        let loc = operand.location
        // Values are told as the operand writes them (0x1000 stays 0x1000).
        let notation = operand.expr.notation
        switch operand.kind {
        case .signed12:
            guard v >= -2048 && v <= 2047 else {
                throw loc.error("immediate \(notation.range(v, -2048, 2047))")
            }
            inst.imm = Int32(v)
        case .shamt(let maximum):
            guard v >= 0 && v <= Int64(maximum) else { throw loc.error("shift amount \(notation.range(v, 0, Int64(maximum)))") }
            inst.imm = Int32(v)
        case .upper20:
            guard v >= 0 && v <= 0xfffff else { throw loc.error("immediate \(notation.range(v, 0, 0xfffff))") }
            inst.imm = Int32(truncatingIfNeeded: v << 12)
        case .branch, .jump:
            // An offset to an address is a distance the source never wrote: in decimal.
            let (offset, written) = value.isAddress ? (v &- Int64(bitPattern: pc), NumberNotation.decimal) : (v, notation)
            let limit: Int64 = if case .branch = operand.kind { 4096 } else { 1 << 20 }
            guard offset & 1 == 0 else { throw loc.error("target offset \(written.value(offset)) is not a multiple of 2") }
            guard offset >= -limit && offset < limit else {
                throw loc.error("target out of range: offset \(written.value(offset)) not in [\(written.format(-limit)), \(written.format(limit - 2))]")
            }
            inst.imm = Int32(offset)
        }
        return inst
    }

    func finish() throws(AssemblyError) -> AssembledProgram {
        for (name, loc) in pendingForward where labels[name] == nil {
            throw loc.error("local label '\(name.dropFirst(2).split(separator: "$")[0])f' is not defined later")
        }
        // Relax: start every jump and branch to a label at its smallest form and grow those whose
        // target is out of reach, until nothing changes.
        var changed = true
        while changed {
            changed = false
            try layout()
            for s in sections.indices {
                let base = sections[s].address
                for i in sections[s].items.indices {
                    let item = sections[s].items[i]
                    guard case .instruction(let t, let op, _, let relax) = item.kind else { continue }
                    if case .none = relax { continue }
                    if case .form = relax { continue }
                    let pc = base &+ item.offset
                    let fits: Bool
                    switch item.stage {
                    case 0: fits = (try? resolve(t, op, pc: pc)).flatMap(Compressor.compress) != nil
                    case 1: fits = relax == .jump || (try? resolve(t, op, pc: pc)) != nil
                    default: fits = true  // the long form's jal is checked when encoding
                    }
                    if !fits {
                        sections[s].items[i].stage += 1
                        changed = true
                    }
                }
            }
        }
        try checkOverlaps()

        pcrelHi = [:]
        for s in sections {
            for item in s.items {
                if case .instruction(let t, let op?, _, _) = item.kind, t.opcode == .auipc,
                   case .modifier(.pcrel_hi, let target, _) = op.expr {
                    pcrelHi[s.address &+ item.offset] = (target, op.location)
                }
            }
        }

        var out: [AssembledSection] = []
        for s in sections {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(Int(s.size))
            for item in s.items {
                let pc = s.address &+ item.offset
                try encode(item, pc: pc, into: &bytes)
            }
            out.append(AssembledSection(name: s.name, address: s.address, bytes: bytes))
        }

        var symbols: [String: UInt64] = [:]
        for name in labels.keys where !isInternalLabel(name) { symbols[name] = labelAddress(name) }
        // A redefined symbol is listed with its last value, as clang lists it.
        for (name, count) in definitionCounts {
            guard let e = equates[Self.definitionKey(name, count - 1)] else { continue }
            if let v = try? e.evaluate(environment(pc: nil)) { symbols[name] = UInt64(bitPattern: v.value) }
        }

        let used = out.filter { !$0.bytes.isEmpty }
        let start = used.map(\.address).min() ?? options.base
        let end = used.map { $0.address &+ UInt64($0.bytes.count) }.max() ?? start
        guard end - start <= Self.maximumImageSize else {
            throw SourceLocation(line: 1, column: 1).error(
                "sections span 0x\(String(end - start, radix: 16)) bytes, more than a flat image may (\(Self.maximumImageSize >> 20) MiB)")
        }
        var image = [UInt8](repeating: 0, count: Int(end - start))
        for s in used {
            let at = Int(s.address - start)
            image.replaceSubrange(at..<(at + s.bytes.count), with: s.bytes)
        }
        return AssembledProgram(base: start, bytes: image, sections: out, symbols: symbols, globals: globals)
    }

    /// The first instruction of a long branch: the inverse condition, skipping the jal after it.
    func longBranchHead(_ branch: Instruction, compressible: Bool) -> (bits: UInt32, size: Int) {
        var inverse = branch
        switch branch.opcode {
        case .beq: inverse.opcode = .bne
        case .bne: inverse.opcode = .beq
        case .blt: inverse.opcode = .bge
        case .bge: inverse.opcode = .blt
        case .bltu: inverse.opcode = .bgeu
        default: inverse.opcode = .bltu
        }
        if compressible {
            inverse.imm = 6
            if let half = Compressor.compress(inverse) { return (UInt32(half), 2) }
        }
        inverse.imm = 8
        return (Encoder.encode(inverse), 4)
    }

    func checkOverlaps() throws(AssemblyError) {
        let used = sections.filter { $0.size > 0 }.sorted { $0.address < $1.address }
        for s in used where s.address > UInt64.max - s.size {
            let loc = s.items.first?.location ?? SourceLocation(line: 1, column: 1)
            throw loc.error("section '\(s.name)' at 0x\(String(s.address, radix: 16)) runs past the end of the address space")
        }
        for (a, b) in zip(used, used.dropFirst()) where a.address &+ a.size > b.address {
            let loc = b.items.first?.location ?? SourceLocation(line: 1, column: 1)
            throw loc.error("section '\(b.name)' at 0x\(String(b.address, radix: 16)) overlaps '\(a.name)'")
        }
        if let first = used.first, first.address < options.base, options.sectionAddresses[first.name] == nil {
            throw SourceLocation(line: 1, column: 1).error("section '\(first.name)' starts below the base address")
        }
    }

    func encode(_ item: Item, pc: UInt64, into bytes: inout [UInt8]) throws(AssemblyError) {
        func put(_ v: UInt64, _ width: Int) {
            for k in 0..<width { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(k)))) }
        }
        switch item.kind {
        case .instruction(let template, let operand, let compressed, let relax):
            if let compressed {
                put(UInt64(compressed), 2)
                return
            }
            if case .form(let form) = relax {
                let inst = try resolve(template, operand, pc: pc)
                guard let half = form.encode(inst) else {
                    throw (operand?.location ?? item.location).error("operands do not fit '\(form.name)'")
                }
                put(UInt64(half), 2)
                return
            }
            if case .branch(let compressible) = relax, item.stage >= 2 {
                // The inverted branch skips the jal that reaches the far target.
                let head = longBranchHead(template, compressible: compressible)
                put(UInt64(head.bits), head.size)
                var jump = Instruction(opcode: .jal)
                jump = try resolve(jump, operand.map { ImmediateOperand(expr: $0.expr, kind: .jump, location: $0.location) },
                                   pc: pc &+ UInt64(head.size))
                put(UInt64(Encoder.encode(jump)), 4)
                return
            }
            let inst = try resolve(template, operand, pc: pc)
            if relax != .none && item.stage == 0, let half = Compressor.compress(inst) {
                put(UInt64(half), 2)
            } else {
                put(UInt64(Encoder.encode(inst)), 4)
            }
        case .data(let width, let exprs):
            for (k, e) in exprs.enumerated() {
                let v = try e.evaluate(environment(pc: pc &+ UInt64(k * width))).value
                if width < 8 {
                    let bits = Int64(width * 8)
                    guard v >= -(1 << (bits - 1)) && v < (1 << bits) else {
                        throw item.location.error("value \(e.notation.value(v)) does not fit in \(width) byte\(width == 1 ? "" : "s")")
                    }
                }
                put(UInt64(bitPattern: v), width)
            }
        case .bytes(let b):
            bytes.append(contentsOf: b)
        case .fill(let count, let value):
            bytes.append(contentsOf: repeatElement(value, count: count))
        case .align(let alignment, let fill, let code, let rvc):
            var count = Int(Self.alignUp(item.offset, UInt64(alignment)) - item.offset)
            if let fill, !code {
                bytes.append(contentsOf: repeatElement(fill, count: count))
                return
            }
            guard code else {
                bytes.append(contentsOf: repeatElement(0, count: count))
                return
            }
            // Code padding is nops, as the LLVM and GNU assemblers emit: an odd byte of zero, a c.nop
            // (or two zero bytes without C) to reach a multiple of 4, then `addi x0, x0, 0`.
            if count % 2 == 1 { bytes.append(0); count -= 1 }
            if count % 4 == 2 { put(rvc ? 0x0001 : 0, 2); count -= 2 }
            while count >= 4 { put(0x13, 4); count -= 4 }
        }
    }
}
